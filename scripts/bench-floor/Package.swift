// swift-tools-version:6.0
// The floor of `scripts/bench startup`: a Swift program that imports Foundation, reads its
// environment and prints, with the Swift runtime and Foundation linked in as heph has them
// (--static-swift-stdlib). What any start of heph pays before heph's own work.
import PackageDescription

let package = Package(name: "floor", targets: [.executableTarget(name: "floor")])
