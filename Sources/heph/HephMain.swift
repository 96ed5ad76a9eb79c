import ArgumentParser
import Dispatch
import Foundation
import HephDocker

/// Where the process starts: a command line ``FastPath`` reads runs without the argument
/// parser; every other goes to ``Heph``, the root command.
@main
enum HephMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Defaults only, but HEPH_PROJECT, DOCKER_CONTEXT and the rest are still read and
        // checked: when they are wrong, the parser says so as it always does.
        let global = GlobalSettings()
        switch FastPath(arguments) {
        case .version:
            print(hephVersion)
            exit(0)
        case .run(let script, let scriptArguments) where (try? global.validate()) != nil:
            finish { try await RunInvocation(global: global, script: script, arguments: scriptArguments).run() }
        case .ps(let all, let json) where (try? global.validate()) != nil:
            finish { try await PsListing(global: global, all: all, json: json).run() }
        default:
            finish { await Heph.main() }
        }
    }

    /// Runs `body` as the program's main task, then exits: 0, or the code an ``ExitCode``
    /// it throws carries (the parser's `main` exits by itself on every error it meets).
    /// Nothing in heph needs the main thread: the task starts on the cooperative pool at
    /// once, rather than on the main queue and then hopping there.
    private static func finish(_ body: @escaping @Sendable () async throws -> Void) -> Never {
        Task.detached {
            do {
                try await body()
                exit(0)
            } catch let code as ExitCode {
                exit(code.rawValue)
            } catch {
                Heph.exit(withError: error)
            }
        }
        dispatchMain()
    }
}
