import Foundation

/// Where a watcher's control socket lives: `/tmp/heph-UID/INSTANCE.sock`, in a directory
/// only its user can enter (0700), so only that user (and root) can reach the socket.
/// Fixed, not `$TMPDIR` or `$XDG_RUNTIME_DIR`: `heph attach` finds it from the watcher's
/// registry entry (its instance) and the user the process runs as, whoever attaches.
public enum ControlSocketPath {
    /// The directory of `uid`'s sockets.
    public static func directory(uid: uid_t) -> String {
        "/tmp/heph-\(uid)"
    }

    /// The socket of the watcher `instance` run by `uid`.
    public static func socket(uid: uid_t, instance: String) -> String {
        directory(uid: uid) + "/\(instance).sock"
    }

    /// Makes this user's directory, or checks the one there: a directory owned by this user
    /// that nobody else can enter. Anything else (made by someone else to catch the socket,
    /// a symbolic link) is refused with the reason.
    static func prepareDirectory(_ path: String) throws(ControlSocketError) {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw ControlSocketError("cannot make \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard lstat(path, &status) == 0 else { throw ControlSocketError("cannot look at \(path): \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw ControlSocketError("\(path) is not a directory; remove it") }
        guard status.st_uid == geteuid() else { throw ControlSocketError("\(path) belongs to user \(status.st_uid), not to this one (\(geteuid())); remove it") }
        if status.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw ControlSocketError("\(path) can be entered by others and cannot be made private: \(String(cString: strerror(errno)))")
        }
    }
}

extension ControlSocketPath {
    /// Removes the sockets in `directory` nobody listens on any more (a watcher killed
    /// with SIGKILL leaves its socket behind): a connection to one is refused. Never waits:
    /// a frozen watcher's full backlog answers EAGAIN (alive), not a block.
    static func removeStale(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasSuffix(".sock") {
            let path = directory + "/" + name
            guard var address = unixAddress(path) else { continue }
            let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard descriptor >= 0 else { return }
            let connected = withSocketAddress(&address) { connect(descriptor, $0, $1) }
            let refused = connected != 0 && errno == ECONNREFUSED
            close(descriptor)
            if refused { unlink(path) }
        }
    }
}

/// Why a control socket could not be opened or reached.
public struct ControlSocketError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The socket is another user's: the kernel (its directory) or the watcher refused.
    public var permissionDenied: Bool
    public init(_ description: String, permissionDenied: Bool = false) {
        self.description = description
        self.permissionDenied = permissionDenied
    }
}

/// The user id of a peer on a unix socket (SO_PEERCRED).
func peerUser(of descriptor: Int32) -> uid_t? {
    // struct ucred (pid, uid, gid), which Glibc's module leaves out without _GNU_SOURCE.
    var credentials: (pid: pid_t, uid: uid_t, gid: gid_t) = (0, 0, 0)
    var length = socklen_t(MemoryLayout<(pid_t, uid_t, gid_t)>.size)
    guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
    return credentials.uid
}

/// Calls `body` (bind, connect) with `address` as the sockaddr it takes.
func withSocketAddress(_ address: inout sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
}

/// A unix socket address for `path`; nil when the path is too long for one.
func unixAddress(_ path: String) -> sockaddr_un? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    return address
}
