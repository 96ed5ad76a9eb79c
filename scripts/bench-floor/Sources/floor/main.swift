import Foundation

print(ProcessInfo.processInfo.environment.count)
