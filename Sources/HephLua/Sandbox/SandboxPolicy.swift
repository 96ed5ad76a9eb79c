import HephServe

/// What `heph run --sandbox` lets a script reach beyond Lua: host directories to bind-mount
/// (`--allow-mount`) and hosts for `heph.http.request` (`--allow-http`). What the sandbox
/// takes from Lua itself is ``sandboxSource``.
public struct SandboxPolicy: Sendable, Hashable {
    /// The directories bind mounts may come from.
    public var mounts: MountPolicy
    /// The hosts `heph.http.request` may reach.
    public var http: HTTPAllowList

    /// A sandbox allowing `mounts` and `http` (by default: nothing).
    public init(mounts: MountPolicy = MountPolicy(allowing: []), http: HTTPAllowList = HTTPAllowList([])) {
        self.mounts = mounts
        self.http = http
    }
}
