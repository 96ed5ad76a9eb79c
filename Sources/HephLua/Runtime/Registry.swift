/// Things a script registered (hooks, timers, pollers) or started (waiting calls), by the
/// id its handle carries: ids start at 1 and are never reused within a runtime.
struct Registry<Value> {
    private var entries: [Int: Value] = [:]
    private var nextID = 1

    /// Adds the value `make` builds from its new id; returns both.
    @discardableResult
    mutating func add(_ make: (Int) -> Value) -> (id: Int, value: Value) {
        let id = nextID
        nextID += 1
        let value = make(id)
        entries[id] = value
        return (id, value)
    }

    subscript(id: Int) -> Value? {
        get { entries[id] }
        set { entries[id] = newValue }
    }

    /// Removes and returns the value of `id`, if it is still there.
    @discardableResult
    mutating func remove(_ id: Int) -> Value? {
        entries.removeValue(forKey: id)
    }

    /// Removes everything; returns what was there, oldest first.
    mutating func removeAll() -> [Value] {
        defer { entries.removeAll() }
        return ids.compactMap { entries[$0] }
    }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    /// The ids in use, oldest first.
    var ids: [Int] { entries.keys.sorted() }
    /// The values, oldest first.
    var values: [Value] { ids.compactMap { entries[$0] } }
}
