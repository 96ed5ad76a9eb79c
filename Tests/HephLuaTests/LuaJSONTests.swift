import HephTestSupport
import Testing

/// `heph.json`: plain Lua under the script's limits, exact about what JSON can hold.
@Suite struct LuaJSONTests {
    @Test func valuesGoThereAndBackAsTheyWere() async {
        let result = await LuaHarness.run(#"""
            local value = { name = "web", code = 137, ratio = 0.1, big = 1e300, ok = false, list = { 1, "two", { three = 3 } },
                            text = "quote \" backslash \\ newline \n tab \t bell \a é 😀" }
            local text = heph.json.encode(value)
            print(text)
            local back = heph.json.decode(text)
            print(back.code, math.type(back.code), back.ratio, math.type(back.ratio), back.big, back.ok, back.list[3].three, back.text == value.text)
            print(heph.json.encode({}), heph.json.encode(2.0), heph.json.encode(-0.5), heph.json.encode(nil), heph.json.encode("é"))
            local decoded = heph.json.decode(' { "a" : [ 1 , null , 3 ] , "b" : "\\u00e9\\ud83d\\ude00\\/" , "c" : 1.5e2 , "d" : 12345678901234567890 } ')
            print(decoded.a[1], decoded.a[2], decoded.a[3], decoded.b, decoded.c, math.type(decoded.c), math.type(decoded.d))
            print(heph.json.decode("null"), heph.json.decode("true"), heph.json.decode("[]")[1])
            local z = heph.json.decode("-0.0")
            print(1 / z, heph.json.decode('"a\127b"') == "a\127b", math.type(heph.json.decode("-9223372036854775808")), math.type(heph.json.decode("-9223372036854775809")))
            """#)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == [
            #"{"big":1e+300,"code":137,"list":[1,"two",{"three":3}],"name":"web","ok":false,"ratio":0.1,"text":"quote \" backslash \\ newline \n tab \t bell \u0007 é 😀"}"#,
            "137\tinteger\t0.1\tfloat\t1e+300\tfalse\t3\ttrue",
            "{}\t2.0\t-0.5\tnull\t\"é\"",
            "1\tnil\t3\té😀/\t150.0\tfloat\tfloat",
            "nil\ttrue\tnil",
            "-inf\ttrue\tinteger\tfloat",
        ])
    }

    @Test func whatJSONCannotHoldIsAnErrorThatSaysWhere() async {
        let cases: [(String, String)] = [
            ("heph.json.encode({ a = { b = 0/0 } })", "heph.json.encode: value.a.b is NaN; JSON has no NaN or infinity"),
            ("heph.json.encode({ math.huge })", "heph.json.encode: value[1] is inf; JSON has no NaN or infinity"),
            ("heph.json.encode({ f = print })", "heph.json.encode: value.f is a function; JSON holds nil, booleans, numbers, strings and tables"),
            ("heph.json.encode({ 1, 2, x = 3 })", "heph.json.encode: the value has the key 1 beside string keys; JSON holds arrays (keys 1 to n, no holes) and objects (string keys)"),
            ("heph.json.encode({ [1] = 1, [3] = 3 })", "heph.json.encode: the value has the key 3 that is not part of an array 1 to n; JSON holds arrays (keys 1 to n, no holes) and objects (string keys)"),
            ("local t = {}; t.me = t; heph.json.encode(t)", "heph.json.encode: value.me contains itself; JSON cannot hold a cycle"),
            ("heph.json.encode({ s = 'caf\\xe9' })", "heph.json.encode: value.s is not valid UTF-8 (byte 4); JSON holds text only"),
            ("local t = {}; for i = 1, 70 do t = { t } end; heph.json.encode(t)",
             "heph.json.encode: value" + String(repeating: "[1]", count: 64) + " is nested deeper than 64 levels"),
            ("heph.json.decode('{\"a\": [1, 2,, 3]}')", "heph.json.decode: unexpected \",\" where a value should be (line 1, column 13)"),
            ("heph.json.decode('{\"a\": 1}\\n x')", "heph.json.decode: unexpected \"x\" where the end of the text should be (line 2, column 2)"),
            ("heph.json.decode('{\"a\": ')", "heph.json.decode: the text ends where a value should follow (line 1, column 7)"),
            ("heph.json.decode('\"\\xff\"')", "heph.json.decode: the text is not valid UTF-8 (byte 2)"),
            ("heph.json.decode('\"\\\\ud800\"')", "heph.json.decode: a lone surrogate \\ud800 (line 1, column 2)"),
            ("heph.json.decode('012')", "heph.json.decode: a number cannot start with 0 (line 1, column 1)"),
            ("heph.json.decode(string.rep('[', 100))", "heph.json.decode: the value is nested deeper than 64 levels (line 1, column 65)"),
            ("heph.json.encode({ 1, nil, 3, x = 'lost' })", "heph.json.encode: the value has the key 3 beside string keys; JSON holds arrays (keys 1 to n, no holes) and objects (string keys)"),
            ("heph.json.encode({ 1, [true] = 1 })", "heph.json.encode: the value has the key of type boolean; JSON holds arrays (keys 1 to n, no holes) and objects (string keys)"),
            ("heph.json.decode('\"a\\1b\"')", "heph.json.decode: a control character inside a string must be escaped (line 1, column 3)"),
            ("heph.json.decode('1e400')", "heph.json.decode: the number 1e400 is too large for a float (line 1, column 1)"),
            ("heph.json.decode(42)", "bad argument #1 to 'decode' (string expected, got number)"),
        ]
        let code = cases.enumerated().map { "print(select(2, pcall(function() \($0.element.0) end)))" }.joined(separator: "\n")
        let result = await LuaHarness.run(code)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == cases.map { "test.lua:\(0): " + $0.1 }.enumerated().map { index, line in line.replacingOccurrences(of: "test.lua:0:", with: "test.lua:\(index + 1):") })
    }
}
