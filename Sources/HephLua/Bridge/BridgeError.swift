import CHephLua
import CLua
import HephDocker

/// What a bridge function reports instead of raising: the C trampoline raises it once the
/// Swift frames are gone.
enum BridgeError: Error {
    /// Raised in Lua's own form, `bad argument #n to 'fn' (message)`, with the position of
    /// the script's call.
    case argument(Int32, String)
    /// Raised with exactly this message and no position (engine failures:
    /// `heph.start_container: no such container: heph-nope`).
    case raise(String)
}

extension LuaStack {
    /// Argument `arg` as a string; numbers are converted as Lua converts them.
    func checkString(_ arg: Int32) throws(BridgeError) -> String {
        if let text = string(at: arg) { return text }
        if type(at: arg) == LUA_TSTRING { throw .argument(arg, "string is not valid UTF-8") }
        if let text = numberText(at: arg) { return text }
        throw .argument(arg, "string expected, got \(typeName(at: arg))")
    }

    /// Argument `arg` as a number.
    func checkNumber(_ arg: Int32) throws(BridgeError) -> Double {
        guard let value = number(at: arg) else { throw .argument(arg, "number expected, got \(typeName(at: arg))") }
        return value
    }

    /// Throws unless argument `arg` is a table.
    func checkTable(_ arg: Int32) throws(BridgeError) {
        guard type(at: arg) == LUA_TTABLE else { throw .argument(arg, "table expected, got \(typeName(at: arg))") }
    }

    /// Throws unless argument `arg` is a function.
    func checkFunction(_ arg: Int32) throws(BridgeError) {
        guard type(at: arg) == LUA_TFUNCTION else { throw .argument(arg, "function expected, got \(typeName(at: arg))") }
    }

    /// Argument `arg` as a container: a short name, a full name or an id.
    func checkContainer(_ arg: Int32) throws(BridgeError) -> String {
        let reference = try checkString(arg)
        if reference.isEmpty { throw .argument(arg, "container name is empty") }
        return reference
    }

    /// Argument `arg` as a duration in seconds: a finite number, 0 or more, at most a day.
    func checkSeconds(_ arg: Int32, allowZero: Bool) throws(BridgeError) -> Double {
        let seconds = try checkNumber(arg)
        guard seconds.isFinite, allowZero ? seconds >= 0 : seconds > 0, seconds <= 86_400 else {
            let range = allowZero ? "from 0 to 86400" : "above 0, at most 86400"
            throw .argument(arg, "seconds must be a number \(range), got \(numberText(at: arg) ?? "?")")
        }
        return seconds
    }

    /// A repeating interval: seconds as ``checkSeconds(_:allowZero:)`` takes them, and at
    /// least `minimum` (a timer of a nanosecond would flood the Lua thread with work).
    func checkInterval(_ arg: Int32, minimum: Double) throws(BridgeError) -> Double {
        let seconds = try checkSeconds(arg, allowZero: false)
        guard seconds >= minimum else {
            throw .argument(arg, "an interval must be at least \(formatted(minimum)) s, got \(numberText(at: arg) ?? "?")")
        }
        return seconds
    }

    /// The optional graceful-stop timeout of `stop_container` and `restart_container`:
    /// ``HephDocker/stopTimeout`` when absent.
    func checkStopTimeout(_ arg: Int32) throws(BridgeError) -> Duration {
        isNoneOrNil(arg) ? HephDocker.stopTimeout : .seconds(try checkSeconds(arg, allowZero: true))
    }
}
