import ArgumentParser
import HephDocker

/// `heph`: the root command. The process starts in ``HephMain``, which hands it every
/// command line ``FastPath`` does not answer.
struct Heph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heph",
        abstract: "Run Docker container topologies with recovery logic written in Lua.",
        discussion: """
            heph manages only containers and networks labelled io.heph.managed=true; \
            anything else on the engine, even when named heph-*, is left alone.

            Several topologies share an engine as projects: -p NAME (or HEPH_PROJECT) on \
            run, repl, check, test, ps, logs, down and status. A script's names are the same in every \
            project (heph-web); the engine's are the project's (heph_NAME_web); each \
            command acts on one project only (ps --all and down --all on every one). \
            Without -p: the default project, named as heph always named things.

            The engine is found through DOCKER_HOST (unix:///var/run/docker.sock when \
            unset; tcp://HOST:PORT; TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; \
            ssh://USER@HOST), --host, or a Docker CLI context (--context, DOCKER_CONTEXT, \
            the current context).

            Exit codes: 0 success; 1 the command failed (the reason is on stderr); \
            64 the command line is wrong; 69 the Docker engine cannot be reached.

            Colour only on a terminal, never with NO_COLOR. Shell completion: \
            heph --generate-completion-script bash (or zsh, fish).
            """,
        version: hephVersion,
        subcommands: [RunCommand.self, ReplCommand.self, AttachCommand.self, ReloadCommand.self, CheckCommand.self, TestCommand.self, PsCommand.self, LogsCommand.self, DownCommand.self, StatusCommand.self, PluginsCommand.self, VersionCommand.self]
    )
}
