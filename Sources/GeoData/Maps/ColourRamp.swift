/// A continuous colour scale: evenly spaced anchor colours with linear interpolation in
/// between. A few anchors taken from a published palette reproduce it to within a couple of
/// levels per channel, so no full lookup table is needed.
public struct ColourRamp: Sendable {
  /// The colours at t = 0, 1/(n−1), …, 1.
  public let anchors: [Colour]
  /// Whether the ramp diverges from its middle anchor, so that a default range should be
  /// symmetric about zero (residuals: under- and over-prediction alike).
  public let isDiverging: Bool

  public init(anchors: [Colour], isDiverging: Bool = false) {
    precondition(anchors.count >= 2, "a colour ramp needs at least two anchors")
    self.anchors = anchors
    self.isDiverging = isDiverging
  }

  /// The colour at position `t` along the ramp; `t` is clamped to 0…1.
  public func colour(at t: Float) -> Colour {
    let position = min(max(t, 0), 1) * Float(anchors.count - 1)
    let index = min(Int(position), anchors.count - 2)
    let fraction = position - Float(index)
    let (low, high) = (anchors[index], anchors[index + 1])
    func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
      UInt8((Float(a) + (Float(b) - Float(a)) * fraction).rounded())
    }
    return Colour(
      red: mix(low.red, high.red), green: mix(low.green, high.green),
      blue: mix(low.blue, high.blue), alpha: mix(low.alpha, high.alpha))
  }

  /// The colour of `value` on a scale from `range.lowerBound` to `range.upperBound`; values
  /// outside the range take the end colours, and a range of one value maps to the middle.
  public func colour(for value: Float, in range: ClosedRange<Float>) -> Colour {
    let span = range.upperBound - range.lowerBound
    return colour(at: span > 0 ? (value - range.lowerBound) / span : 0.5)
  }

  /// Viridis (matplotlib's default): perceptually uniform and readable in greyscale and
  /// by colour-blind readers; for susceptibility (probability 0–1).
  public static let viridis = ColourRamp(
    anchors: [
      0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21908C, 0x27AD81, 0x5DC863, 0xAADC32, 0xFDE725,
    ].map(Colour.init(rgb:)))

  /// ColorBrewer's YlOrRd: pale yellow for little to dark red for much; for landslide
  /// density and hazard, where the eye should go to the high end.
  public static let yellowOrangeRed = ColourRamp(
    anchors: [
      0xFFFFCC, 0xFFEDA0, 0xFED976, 0xFEB24C, 0xFD8D3C, 0xFC4E2A, 0xE31A1C, 0xBD0026, 0x800026,
    ].map(Colour.init(rgb:)))

  /// ColorBrewer's RdBu reversed: blue below zero, near-white at zero, red above; for
  /// residuals (observed − predicted).
  public static let blueWhiteRed = ColourRamp(
    anchors: [
      0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B,
    ].map(Colour.init(rgb:)),
    isDiverging: true)
}
