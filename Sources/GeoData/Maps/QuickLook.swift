import Foundation

/// PNG quick-looks of 1 km maps (susceptibility, density, hazard, residuals, confusion),
/// for checking a run at a glance without a GIS: the map enlarged so single cells show,
/// a title, and a legend that says what the colours mean.
public enum QuickLook {
  /// Cells without data. No ramp or palette uses this grey, so gaps in coverage cannot be
  /// read as low values.
  public static let noDataColour = Colour(rgb: 0xC8C8C8)
  static let background = Colour(rgb: 0xFFFFFF)
  static let ink = Colour(rgb: 0x202020)
  static let frame = Colour(rgb: 0x606060)

  /// Renders `values`, row-major over a `width` × `height` grid with NaN where there is no
  /// data, as an RGBA PNG at `path`, written atomically (see `AtomicFile`).
  ///
  /// The image, top to bottom, everything left-aligned after a 16-pixel margin:
  /// - the title, in the 5×7 font at scale 2 (18 pixels high with descenders), then a
  ///   12-pixel gap;
  /// - the map, each cell n × n pixels with n = ⌈480 / max(width, height)⌉ (at least 1),
  ///   framed by a one-pixel line outside it, then a 12-pixel gap;
  /// - for `.continuous`, a 321 × 20 colour bar from the low end (left) to the high end,
  ///   with ticks and labels at both ends and the middle and the unit to its right
  ///   (45 pixels high); for `.categorical`, one 20 × 20 box and name per class (21 high,
  ///   for descenders);
  /// - a 16-pixel margin.
  /// The image is as wide as the widest of title, map and legend plus both margins.
  ///
  /// Throws a `RasterError` naming `path` when the values do not fill the grid, a given
  /// range is not finite, a categorical cell is not a class code, or the file cannot be
  /// written; a file already at `path` is then left as it was.
  public static func write(
    path: String, values: [Float], width: Int, height: Int, title: String, style: MapStyle
  ) throws(RasterError) {
    guard width > 0, height > 0 else {
      throw RasterError(path: path, message: "a \(width)×\(height) grid has no cells to show")
    }
    guard values.count == width * height else {
      throw RasterError(
        path: path,
        message: "\(values.count) values for a \(width)×\(height) grid of \(width * height) cells")
    }
    switch style {
    case .continuous(_, let range?, _)
    where !range.lowerBound.isFinite || !range.upperBound.isFinite:
      throw RasterError(path: path, message: "colour range \(range) is not finite")
    case .categorical(let palette):
      if let index = values.firstIndex(where: { !$0.isNaN && palette.category(of: $0) == nil }) {
        throw RasterError(
          path: path,
          message: "cell at row \(index / width), column \(index % width) holds \(values[index]), "
            + "not a class code 0…\(palette.categories.count - 1)")
      }
    default: break
    }
    try render(values: values, width: width, height: height, title: title, style: style)
      .writePNG(to: path)
  }

  /// The quick-look image of valid inputs (see `write`).
  static func render(
    values: [Float], width: Int, height: Int, title: String, style: MapStyle
  ) -> Canvas {
    let layout = QuickLookLayout(gridWidth: width, gridHeight: height, title: title, style: style)
    var canvas = Canvas(width: layout.width, height: layout.height, background: background)
    canvas.draw(
      title, x: layout.title.x, y: layout.title.y, scale: QuickLookLayout.textScale, colour: ink)
    switch style {
    case .continuous(let ramp, let range, let unit):
      let range = range ?? MapStyle.defaultRange(of: values, ramp: ramp)
      drawMap(values, width: width, height: height, layout: layout, on: &canvas) {
        $0.isNaN ? noDataColour : ramp.colour(for: $0, in: range)
      }
      drawColourBar(ramp, range: range, unit: unit, layout: layout, on: &canvas)
    case .categorical(let palette):
      drawMap(values, width: width, height: height, layout: layout, on: &canvas) {
        palette.category(of: $0)?.colour ?? noDataColour
      }
      drawKey(palette, layout: layout, on: &canvas)
    }
    canvas.outline(layout.map, with: frame)
    return canvas
  }

  /// Colours each cell once, fills one image row of the enlarged map with it, and copies
  /// that row `cellSize` times.
  private static func drawMap(
    _ values: [Float], width: Int, height: Int, layout: QuickLookLayout,
    on canvas: inout Canvas, colour: (Float) -> Colour
  ) {
    let cellSize = layout.cellSize
    let map = layout.map
    let rowBytes = map.width * 4
    let imageWidth = canvas.width
    var line = [UInt8](repeating: 0, count: rowBytes)
    values.withUnsafeBufferPointer { values in
      line.withUnsafeMutableBufferPointer { line in
        canvas.bytes.withUnsafeMutableBytes { image in
          for row in 0..<height {
            for column in 0..<width {
              let cell = colour(values[row * width + column])
              for pixel in column * cellSize..<(column + 1) * cellSize {
                line[pixel * 4] = cell.red
                line[pixel * 4 + 1] = cell.green
                line[pixel * 4 + 2] = cell.blue
                line[pixel * 4 + 3] = cell.alpha
              }
            }
            for y in map.y + row * cellSize..<map.y + (row + 1) * cellSize {
              let start = (y * imageWidth + map.x) * 4
              UnsafeMutableRawBufferPointer(rebasing: image[start..<start + rowBytes])
                .copyMemory(from: UnsafeRawBufferPointer(line))
            }
          }
        }
      }
    }
  }

  private static func drawColourBar(
    _ ramp: ColourRamp, range: ClosedRange<Float>, unit: String, layout: QuickLookLayout,
    on canvas: inout Canvas
  ) {
    let bar = layout.colourBar
    for column in 0..<bar.width {
      canvas.fill(
        RasterWindow(x: bar.x + column, y: bar.y, width: 1, height: bar.height),
        with: ramp.colour(at: Float(column) / Float(bar.width - 1)))
    }
    canvas.outline(bar, with: frame)
    let scale = QuickLookLayout.textScale
    let labelTop = bar.y + bar.height + QuickLookLayout.tickLength + QuickLookLayout.tickLabelGap
    let middle = (range.lowerBound + range.upperBound) / 2
    for (column, value) in [
      (0, range.lowerBound), (bar.width / 2, middle), (bar.width - 1, range.upperBound),
    ] {
      canvas.fill(
        RasterWindow(
          x: bar.x + column, y: bar.y + bar.height, width: 1, height: QuickLookLayout.tickLength),
        with: ink)
      let text = label(value)
      let textWidth = BitmapFont.width(of: text, scale: scale)
      // Centred on the tick but kept under the bar, so the end labels align with its ends.
      let x = min(max(bar.x + column - textWidth / 2, bar.x), bar.x + bar.width - textWidth)
      canvas.draw(text, x: x, y: labelTop, scale: scale, colour: ink)
    }
    canvas.draw(
      unit, x: bar.x + bar.width + QuickLookLayout.labelGap,
      y: bar.y + QuickLookLayout.textOffset(within: bar.height), scale: scale, colour: ink)
  }

  private static func drawKey(
    _ palette: CategoricalPalette, layout: QuickLookLayout, on canvas: inout Canvas
  ) {
    let side = QuickLookLayout.keyBoxSide
    let scale = QuickLookLayout.textScale
    var x = layout.legend.x
    for category in palette.categories {
      let box = RasterWindow(x: x, y: layout.legend.y, width: side, height: side)
      canvas.fill(box, with: category.colour)
      canvas.outline(box, with: frame)
      x += side + QuickLookLayout.labelGap
      canvas.draw(
        category.name, x: x, y: box.y + QuickLookLayout.textOffset(within: side), scale: scale,
        colour: ink)
      x += BitmapFont.width(of: category.name, scale: scale) + QuickLookLayout.keySpacing
    }
  }

  /// A tick label with three significant digits and no trailing zeros: "0.25", "-1.5",
  /// "1.23e+04".
  static func label(_ value: Float) -> String {
    String(format: "%.3g", Double(value == 0 ? 0 : value))
  }
}
