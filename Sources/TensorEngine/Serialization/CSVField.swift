/// RFC 4180: a field quoted when it holds a comma, quote or line break, its quotes
/// doubled; every CSV the tools write quotes its text fields this way.
public func csvField(_ text: String) -> String {
  guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
    return text
  }
  return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
