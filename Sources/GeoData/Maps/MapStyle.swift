/// How a quick-look colours its cells and which legend explains them.
public enum MapStyle: Sendable {
  /// Cells coloured along `ramp` over `range`, explained by a colour bar labelled with the
  /// range's ends and middle and with `unit`. When `range` is nil it is the finite values'
  /// minimum…maximum, made symmetric about zero for a diverging ramp so that zero stays at
  /// its neutral middle.
  case continuous(ColourRamp, range: ClosedRange<Float>? = nil, unit: String)
  /// Cells hold class codes (0, 1, …) of `palette`, explained by a key of named boxes.
  case categorical(CategoricalPalette)

  /// The range a continuous map is drawn over: 0…1 when no value is finite.
  static func defaultRange(of values: [Float], ramp: ColourRamp) -> ClosedRange<Float> {
    var lowest = Float.infinity
    var highest = -Float.infinity
    for value in values where value.isFinite {
      lowest = min(lowest, value)
      highest = max(highest, value)
    }
    guard lowest <= highest else { return 0...1 }
    guard ramp.isDiverging else { return lowest...highest }
    let magnitude = max(-lowest, highest, 0)
    return -magnitude...magnitude
  }
}
