/// Where each part of a quick-look goes, in image pixels. From the top: a margin, the
/// title line, a gap, the map, a gap, the legend and a margin; everything is left-aligned
/// at the margin, and the image is as wide as the widest part plus both margins.
struct QuickLookLayout {
  static let margin = 16
  static let gap = 12
  /// Text is the 5×7 font at this scale: 12 pixels per character, lines 18 pixels high
  /// (14 to the baseline and 4 for descenders).
  static let textScale = 2
  static var textHeight: Int { BitmapFont.lineHeight(scale: textScale) }
  /// How far below the top of a bar or key box `height` pixels high its text starts, to
  /// centre the text's capitals on it.
  static func textOffset(within height: Int) -> Int {
    (height - BitmapFont.glyphHeight * textScale) / 2
  }
  /// The map's longer side is enlarged by a whole factor to at least this many pixels, so
  /// that single 1 km cells of a small area remain visible.
  static let minimumMapSide = 480
  /// 321 columns put t = 0, ½ and 1 exactly on the first, middle and last column, and leave
  /// room for three labels of up to nine characters.
  static let barLength = 321
  static let barHeight = 20
  static let tickLength = 5
  static let tickLabelGap = 2
  static let keyBoxSide = 20
  /// Between a bar or a key box and its text.
  static let labelGap = 8
  /// Between one key entry and the next.
  static let keySpacing = 24

  /// Pixels per map cell along each side.
  let cellSize: Int
  let title: RasterWindow
  let map: RasterWindow
  let legend: RasterWindow
  let width: Int
  let height: Int

  init(gridWidth: Int, gridHeight: Int, title: String, style: MapStyle) {
    let longerSide = max(gridWidth, gridHeight)
    cellSize = max(1, (Self.minimumMapSide + longerSide - 1) / longerSide)
    self.title = RasterWindow(
      x: Self.margin, y: Self.margin,
      width: BitmapFont.width(of: title, scale: Self.textScale), height: Self.textHeight)
    map = RasterWindow(
      x: Self.margin, y: self.title.y + self.title.height + Self.gap,
      width: gridWidth * cellSize, height: gridHeight * cellSize)
    let legendSize: (width: Int, height: Int)
    switch style {
    case .continuous(_, _, let unit):
      let unitWidth = BitmapFont.width(of: unit, scale: Self.textScale)
      legendSize = (
        Self.barLength + (unit.isEmpty ? 0 : Self.labelGap + unitWidth),
        Self.barHeight + Self.tickLength + Self.tickLabelGap + Self.textHeight
      )
    case .categorical(let palette):
      let entries = palette.categories.map {
        Self.keyBoxSide + Self.labelGap + BitmapFont.width(of: $0.name, scale: Self.textScale)
      }
      legendSize = (
        entries.reduce(0, +) + Self.keySpacing * max(entries.count - 1, 0),
        max(Self.keyBoxSide, Self.textOffset(within: Self.keyBoxSide) + Self.textHeight)
      )
    }
    legend = RasterWindow(
      x: Self.margin, y: map.y + map.height + Self.gap, width: legendSize.width,
      height: legendSize.height)
    width = 2 * Self.margin + max(self.title.width, map.width, legend.width)
    height = legend.y + legend.height + Self.margin
  }

  /// The colour bar of a continuous legend: the ramp from t = 0 (left) to 1 (right).
  var colourBar: RasterWindow {
    RasterWindow(x: legend.x, y: legend.y, width: Self.barLength, height: Self.barHeight)
  }
}
