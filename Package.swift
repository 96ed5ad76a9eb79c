// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "heph",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "heph", targets: ["heph"]),
        .library(name: "HephDocker", targets: ["HephDocker"]),
        .library(name: "HephLua", targets: ["HephLua"]),
        .library(name: "HephServe", targets: ["HephServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The Engine API client and the Orchestrator. Knows nothing of Lua.
        .target(
            name: "HephDocker",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // SHA-256, for the Docker CLI's context store.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // heph's own network faces that are not the engine: outbound HTTP for plugins
        // (heph.http.request), the control socket (heph attach, heph reload), the metrics
        // endpoint (--metrics). Knows nothing of Lua.
        .target(
            name: "HephServe",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Lua 5.4 from the system (Debian: liblua5.4-dev).
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // libedit (BSD licence), for the REPL's line editing (Debian: libedit-dev).
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // C only: macro wrappers, the call trampoline, the traceback handler, the watchdog.
        .target(
            name: "CHephLua",
            dependencies: ["CLua"]
        ),
        // The part of the `heph` module written in Lua, as source.
        .target(name: "HephPrelude"),
        // Compiles that source to bytecode with the Lua heph links, for the plugin below.
        .executableTarget(
            name: "heph-prelude-compiler",
            dependencies: ["CLua", "HephPrelude"],
            path: "Sources/PreludeCompiler"
        ),
        // Runs heph-prelude-compiler as HephLua builds: a state loads bytecode, not source.
        .plugin(
            name: "PreludeBytecode",
            capability: .buildTool(),
            dependencies: ["heph-prelude-compiler"]
        ),
        // The Lua runtime and the `heph` module. Knows nothing of HTTP (HephServe does).
        .target(
            name: "HephLua",
            dependencies: ["CLua", "CHephLua", "HephDocker", "HephServe", "HephPrelude"],
            // The built-in plugins, compiled into the binary as bytes.
            resources: [
                .embedInCode("Plugins/restart.lua"),
                .embedInCode("Plugins/cascade.lua"),
                .embedInCode("Plugins/notify.lua"),
                .embedInCode("Plugins/chaos.lua"),
                // `heph test`'s harness.
                .embedInCode("Testing/harness.lua"),
            ],
            plugins: ["PreludeBytecode"]
        ),
        // The executable: argument parsing and the commands, nothing else.
        .executableTarget(
            name: "heph",
            dependencies: [
                "HephDocker", "HephLua", "HephServe", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets: the engine lock, docker CLI access, unique names.
        .target(
            name: "HephTestSupport",
            dependencies: [
                "HephDocker",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/HephTestSupport"
        ),
        .testTarget(
            name: "HephDockerTests",
            dependencies: ["HephDocker", "HephTestSupport"]
        ),
        .testTarget(
            name: "HephLuaTests",
            dependencies: ["HephLua", "HephDocker", "HephServe", "HephTestSupport", "HephPrelude", "CLua"]
        ),
        .testTarget(
            name: "HephCLITests",
            dependencies: ["heph", "HephDocker", "HephTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
