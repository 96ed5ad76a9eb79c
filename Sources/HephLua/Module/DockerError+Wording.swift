import HephDocker

extension DockerError {
    /// The message as heph's users read it: with the remedy, when the error names one, in
    /// the words of the Lua module and the command line (which the engine layer does not
    /// speak). The one place those remedies are worded; the CLI uses it too.
    public var explained: String {
        guard let remedy else { return message }
        let (anchor, words) = remedy.words
        // A remedy that completes a phrase goes right after it; any other ends the message.
        if let anchor, let range = message.range(of: anchor) {
            return message.replacingCharacters(in: range, with: anchor + words)
        }
        return message + words
    }
}

extension DockerError.Remedy {
    /// The phrase of the message these words complete (nil: they end the message), and the words.
    var words: (anchor: String?, text: String) {
        switch self {
        case .useBackend(.swarm):
            ("the swarm backend", " (heph run --swarm, or heph.config.backend = \"swarm\")")
        case .useBackend(.engine):
            (nil, ", or leave out --swarm (heph.config.backend = \"engine\")")
        case .chooseBackendFirst(let wanted):
            (nil, "; choose the backend before any engine call (heph.config.backend = \"\(wanted.rawValue)\" at the top of the script, or heph run --swarm)")
        case .stopInstead:
            (nil, " (stop a service with heph.stop_container)")
        case .removeFirst(let name):
            ("remove it", " (heph.remove_container(\"\(name)\"))")
        case .tearDownEngineBackendFirst:
            (nil, ": run `heph down` (without --swarm) first")
        case .pointAtManager:
            ("heph needs a manager: ", "point DOCKER_HOST (or --host, --context) at one, or ")
        case .restartRolling:
            (nil, ", or use heph.restart_container (a rolling restart)")
        }
    }
}
