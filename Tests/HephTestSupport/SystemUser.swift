import Foundation

/// A user of this machine other than root, for tests of who may do what (the control
/// socket of `heph attach`). Made when missing (the suite runs as root, in CI too), in the
/// groups asked for; left for the next run.
public struct SystemUser: Sendable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t

    /// The user `name`, made first (a system user, no home, no shell) when there is none.
    public static func ensure(_ name: String, groups: [String]) throws -> SystemUser {
        if getpwnam(name) == nil {
            let made = try Command.runBlocking("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", groups.joined(separator: ","), name])
            guard made.status == 0 else { throw SystemUserError("useradd \(name): \(made.stderr)") }
        }
        guard let entry = getpwnam(name) else { throw SystemUserError("no user \(name) after useradd") }
        return SystemUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// heph copied where any user can run it (the checkout may be under a directory only
    /// root can enter); remove it with ``unshare(_:)``.
    public static func shareHeph() throws -> String {
        let directory = "/tmp/heph-t-bin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let copy = directory + "/heph"
        try FileManager.default.copyItem(atPath: HephBinary.path, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        return copy
    }

    /// Removes what ``shareHeph()`` made.
    public static func unshare(_ heph: String) {
        try? FileManager.default.removeItem(atPath: (heph as NSString).deletingLastPathComponent)
    }

    /// What runs a command as this user (setpriv: its uid, gid and groups), with HOME /tmp
    /// (the user has no home): put before the command.
    public var launcher: [String] {
        ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--", "/usr/bin/env", "HOME=/tmp"]
    }

    /// Runs `heph arguments…` (the shared copy) as this user to its end.
    public func run(heph: String, _ arguments: [String], input: String? = nil) async throws -> Docker.Result {
        try await Command.run(launcher[0], Array(launcher.dropFirst()) + [heph] + arguments, input: input)
    }
}

struct SystemUserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
