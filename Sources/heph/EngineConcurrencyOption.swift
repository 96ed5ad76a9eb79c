import ArgumentParser
import HephDocker

/// `--engine-concurrency N`: heph's bound on its own bulk calls to the engine, which a
/// script reads as `heph.config.engine_concurrency`. Every command that runs a script or
/// talks to the engine takes it.
struct EngineConcurrencyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("At most this many engine calls (creates, starts, stops, removes, inspects) in flight at once; the rest wait their turn. The event stream and the watcher's polls never wait behind them. 1 to \(EngineSlots.maximumCapacity); default \(EngineSlots.defaultCapacity). The same as heph.config.engine_concurrency.", valueName: "n"))
    var engineConcurrency = EngineSlots.defaultCapacity

    func validate() throws {
        try Self.validate(engineConcurrency)
    }

    /// A bound out of range is a command-line error naming the range.
    static func validate(_ engineConcurrency: Int) throws {
        guard EngineSlots.accepts(engineConcurrency) else {
            throw ValidationError("--engine-concurrency must be a whole number from 1 to \(EngineSlots.maximumCapacity), got \(engineConcurrency)")
        }
    }

    /// The slots this bound makes.
    var slots: EngineSlots { EngineSlots(capacity: engineConcurrency) }
}
