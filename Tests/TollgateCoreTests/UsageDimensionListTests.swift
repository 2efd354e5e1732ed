import Testing
import TollgateCore

/// `--by` and `?by=` go through `UsageDimension.parseList`; an empty list once reached the
/// table renderer and crashed it (`tollgate usage --by ''`).
@Suite struct UsageDimensionListTests {
    @Test func namesInOrder() throws {
        #expect(try UsageDimension.parseList("team, model") == [.team, .model])
    }

    @Test(arguments: ["", ",", "key,", ",key", "key,,model"])
    func emptyNamesAreRefusedWithTheKnownList(text: String) {
        #expect {
            try UsageDimension.parseList(text)
        } throws: { error in
            "\(error)".contains("empty dimension name") && "\(error)".contains("team")
        }
    }

    @Test func unknownAndRepeatedNamesAreRefused() {
        #expect(throws: UsageDimensionError.unknown("nope")) { try UsageDimension.parseList("key,nope") }
        #expect(throws: UsageDimensionError.repeated("key")) { try UsageDimension.parseList("key,model,key") }
    }
}
