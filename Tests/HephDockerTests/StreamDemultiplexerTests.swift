@testable import HephDocker
import NIOCore
import Testing

/// The engine's multiplexed log and exec stream, cut anywhere.
@Suite struct StreamDemultiplexerTests {
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let size = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + payload
    }

    @Test func framesSplitAtEveryByteStillSeparateTheStreams() {
        let bytes = Self.frame(1, "out 1\n") + Self.frame(2, "err\n") + Self.frame(1, "out 2\n") + Self.frame(1, "")
        for cut in 0...bytes.count {
            var demultiplexer = StreamDemultiplexer()
            demultiplexer.append(ByteBuffer(bytes: bytes[..<cut]))
            demultiplexer.append(ByteBuffer(bytes: bytes[cut...]))
            let output = demultiplexer.finish()
            #expect(output.stdoutText == "out 1\nout 2\n")
            #expect(output.stderrText == "err\n")
        }
    }

    @Test func aCutOffLastFrameKeepsWhatCame() {
        var demultiplexer = StreamDemultiplexer()
        demultiplexer.append(ByteBuffer(bytes: Self.frame(2, "partial line").dropLast(4)))
        #expect(demultiplexer.finish().stderrText == "partial ")
    }

    @Test func bytesThatAreNotUTF8AreKept() {
        var demultiplexer = StreamDemultiplexer()
        demultiplexer.append(ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 2, 0xff, 0xfe]))
        #expect(demultiplexer.finish().stdout == [0xff, 0xfe])
    }
}
