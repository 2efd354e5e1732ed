/// Which of an ordered list of policies a request could be in the scope of, found without
/// visiting the others: each policy is filed under one condition of its scope (a request
/// outside that condition is outside the scope), a policy for `*` under none. A fleet's
/// policies are mostly scoped to one use case, team or env each, so a request meets a
/// handful of the hundred instead of matching all of them (docs/BENCHMARKS.md, "Spend
/// policy per request"). Candidates still go through `Policy.applies`: the other
/// conditions and the exceptions decide.
struct PolicyScopeIndex: Sendable, Equatable {
    /// Positions of the policies for every request (scope `*`), ascending.
    private var everywhere: [Int] = []
    /// Per dimension, per value: positions of the policies filed under that condition, ascending.
    private var filed: [(dimension: UsageDimension, byValue: [String: [Int]])] = []

    init(_ policies: [Policy]) {
        for position in policies.indices {
            guard let condition = policies[position].scope.conditions.first else {
                everywhere.append(position)
                continue
            }
            if let slot = filed.firstIndex(where: { $0.dimension == condition.dimension }) {
                filed[slot].byValue[condition.value, default: []].append(position)
            } else {
                filed.append((condition.dimension, [condition.value: [position]]))
            }
        }
    }

    /// Positions, ascending (the policies' own order), of every policy whose filed condition
    /// `dimensions` meets.
    func candidates(for dimensions: Dimensions) -> [Int] {
        var result = everywhere
        var sources = result.isEmpty ? 0 : 1
        for slot in filed.indices {
            guard let positions = filed[slot].byValue[dimensions[filed[slot].dimension]] else { continue }
            result.append(contentsOf: positions)
            sources += 1
        }
        if sources > 1 { result.sort() }
        return result
    }

    static func == (lhs: PolicyScopeIndex, rhs: PolicyScopeIndex) -> Bool {
        lhs.everywhere == rhs.everywhere && lhs.filed.elementsEqual(rhs.filed) { $0.dimension == $1.dimension && $0.byValue == $1.byValue }
    }
}
