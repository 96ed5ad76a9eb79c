import ArgumentParser
import HephLua

/// `--memory-limit MiB`, for every command that runs a script (`run`, `repl`, `check`).
struct MemoryLimitOption: ParsableArguments {
    /// A memory limit for the Lua state, in MiB; 0 for none.
    @Option(name: .long, help: ArgumentHelp("Let the script's Lua hold at most this many MiB (default \(LuaRuntime.defaultMemoryLimitMiB); 0: no limit); past it, the Lua code that allocates gets a \"not enough memory\" error (a callback's is reported and the loop goes on).", valueName: "MiB"))
    var memoryLimit: Int?

    func validate() throws {
        if let memoryLimit, memoryLimit < 0 || memoryLimit > 1 << 30 {
            throw ValidationError("--memory-limit must be from 0 (no limit) to \(1 << 30) MiB, got \(memoryLimit)")
        }
    }

    /// The limit in bytes, as the runtime takes it (nil: none).
    var bytes: Int? { LuaRuntime.memoryLimit(mebibytes: memoryLimit) }
}
