import HephDocker

extension DockerError {
    /// The message as heph's users read it: with the remedy, when the error names one, in
    /// the words of the Lua module and the command line (which the engine layer does not
    /// speak). The CLI uses it too.
    public var explained: String {
        explained(command: "run")
    }

    /// ``explained``, naming `heph COMMAND --swarm` where a remedy names the command
    /// (`heph check` says `heph check --swarm`).
    public func explained(command: String) -> String {
        remedy?.applied(to: message, command: command) ?? message
    }
}

extension DockerError.Remedy {
    /// `text` with this remedy's words: each part goes right after the phrase of `text` it
    /// completes, or at the end when it completes none. The one place remedies are worded.
    public func applied(to text: String, command: String = "run") -> String {
        var text = text
        for (anchor, words) in parts(command: command) {
            if let anchor, let range = text.range(of: anchor) {
                text.replaceSubrange(range, with: anchor + words)
            } else {
                text += words
            }
        }
        return text
    }

    /// The words, each with the phrase it completes (nil: they end the message).
    private func parts(command: String) -> [(anchor: String?, words: String)] {
        switch self {
        case .useBackend(.swarm):
            [("the swarm backend", " (heph run --swarm, or heph.config.backend = \"swarm\")")]
        case .useBackend(.engine):
            [(nil, ", or leave out --swarm (heph.config.backend = \"engine\")")]
        case .chooseBackendFirst(let wanted):
            [(nil, "; choose the backend before any engine call (heph.config.backend = \"\(wanted.rawValue)\" at the top of the script, or heph \(command) --swarm)")]
        case .stopInstead:
            [(nil, " (stop a service with heph.stop_container)")]
        case .removeFirst(let name):
            [("remove it", " (heph.remove_container(\"\(name)\"))")]
        case .tearDownEngineBackendFirst:
            [("made by heph", " without --swarm"), (nil, ": run `heph down` (without --swarm) first")]
        case .pointAtManager:
            [("heph needs a manager: ", "point DOCKER_HOST (or --host, --context) at one, or ")]
        case .restartRolling:
            [(nil, ", or use heph.restart_container (a rolling restart)")]
        case .bringUpAgain(let container):
            [("`docker unpause \(container)`", ", or run heph.up again (it unpauses)")]
        case .lowerEngineConcurrency(let current):
            [(nil, "; or send it fewer calls at once (--engine-concurrency N, or heph.config.engine_concurrency; now \(current))")]
        case .raiseEngineConcurrency(let current):
            [(nil, "; let more calls out at once if the engine can take them (--engine-concurrency N, or heph.config.engine_concurrency; now \(current)), or do less at once")]
        }
    }
}
