import Foundation

/// PNG plots of a value over two numeric axes (a probability over rain duration and
/// total, say): the grid as coloured cells with the first row at the bottom, ticked and
/// numbered axes with titles, a title, and a vertical colour bar. Drawn with the
/// quick-looks' font, colours and PNG writing, so it needs no plotting library.
public enum HeatMapPlot {
  /// One axis of the grid: its cells are evenly spaced, `first` and `last` being the values
  /// at the centres of the first and last cell, so the axis runs half a cell beyond each.
  public struct Axis: Sendable {
    public var title: String
    public var first: Float
    public var last: Float

    public init(title: String, first: Float, last: Float) {
      self.title = title
      self.first = first
      self.last = last
    }

    /// The values at the outer edges of the end cells.
    func edges(cells: Int) -> (low: Float, high: Float) {
      let step = cells > 1 ? (last - first) / Float(cells - 1) : 1
      return (first - step / 2, last + step / 2)
    }
  }

  /// Renders `values`, row-major over `columns` × `rows` cells with row 0 at `y.first` (the
  /// bottom) and NaN where there is no value, as an RGBA PNG at `path`, written atomically.
  ///
  /// The image: a 16-pixel margin; the title (the 5×7 font at scale 2) and a 12-pixel gap;
  /// then, left to right, the y axis title reading upwards, the y tick labels, the plot
  /// (each cell ⌈480 / columns⌉ × ⌈360 / rows⌉ pixels, framed outside), the colour bar
  /// (20 pixels wide, as high as the plot, low end at the bottom) with its tick labels and
  /// `unit` reading upwards; below the plot, the x tick labels and the x axis title. Ticks
  /// sit at round values (steps of 1, 2 or 5 × 10ⁿ, at most seven per axis). The colours
  /// run along `ramp` over `range`, or over the finite values' minimum…maximum.
  ///
  /// Throws a `RasterError` naming `path` when the grid is empty, the values do not fill
  /// it, an axis's ends are not finite or do not rise from the first cell to the last, a
  /// given range is not finite, or the file cannot be written.
  public static func write(
    path: String, values: [Float], columns: Int, rows: Int, x: Axis, y: Axis, title: String,
    ramp: ColourRamp, range: ClosedRange<Float>? = nil, unit: String
  ) throws(RasterError) {
    guard columns > 0, rows > 0 else {
      throw RasterError(path: path, message: "a \(columns)×\(rows) grid has no cells to plot")
    }
    guard values.count == columns * rows else {
      throw RasterError(
        path: path,
        message: "\(values.count) values for a \(columns)×\(rows) grid of \(columns * rows) cells")
    }
    for (name, axis, cells) in [("x", x, columns), ("y", y, rows)] {
      guard axis.first.isFinite, axis.last.isFinite else {
        throw RasterError(
          path: path, message: "the \(name) axis runs from \(axis.first) to \(axis.last)")
      }
      guard cells == 1 ? axis.first == axis.last : axis.first < axis.last else {
        throw RasterError(
          path: path,
          message: "the \(name) axis's \(cells) cells go from \(axis.first) to \(axis.last); "
            + "they must rise from the first cell to the last")
      }
    }
    if let range, !range.lowerBound.isFinite || !range.upperBound.isFinite {
      throw RasterError(path: path, message: "colour range \(range) is not finite")
    }
    try render(
      values: values, columns: columns, rows: rows, x: x, y: y, title: title, ramp: ramp,
      range: range ?? MapStyle.defaultRange(of: values, ramp: ramp), unit: unit
    ).writePNG(to: path)
  }

  /// The plot of valid inputs (see `write`).
  static func render(
    values: [Float], columns: Int, rows: Int, x: Axis, y: Axis, title: String,
    ramp: ColourRamp, range: ClosedRange<Float>, unit: String
  ) -> Canvas {
    let (xLow, xHigh) = x.edges(cells: columns)
    let (yLow, yHigh) = y.edges(cells: rows)
    let xTicks = ticks(from: xLow, to: xHigh)
    let yTicks = ticks(from: yLow, to: yHigh)
    let barTicks = ticks(from: range.lowerBound, to: range.upperBound)
    let scale = QuickLookLayout.textScale
    let widest = { (values: [Float]) in
      values.map { BitmapFont.width(of: label($0), scale: scale) }.max() ?? 0
    }
    let layout = Layout(
      columns: columns, rows: rows, title: title, yLabelWidth: widest(yTicks),
      barLabelWidth: widest(barTicks))
    let (plot, bar) = (layout.plot, layout.colourBar)
    let (ink, tick, tickGap) = (
      QuickLook.ink, QuickLookLayout.tickLength, QuickLookLayout.tickLabelGap
    )
    var canvas = Canvas(
      width: layout.width, height: layout.height, background: QuickLook.background)
    canvas.draw(title, x: layout.title.x, y: layout.title.y, scale: scale, colour: ink)

    for row in 0..<rows {
      for column in 0..<columns {
        let value = values[row * columns + column]
        canvas.fill(
          RasterWindow(
            x: plot.x + column * layout.cellWidth,
            y: plot.y + (rows - 1 - row) * layout.cellHeight, width: layout.cellWidth,
            height: layout.cellHeight),
          with: value.isNaN ? QuickLook.noDataColour : ramp.colour(for: value, in: range))
      }
    }
    canvas.outline(plot, with: QuickLook.frame)

    let labelHeight = BitmapFont.glyphHeight * scale
    for value in xTicks {
      let column = plot.x + offset(of: value, from: xLow, to: xHigh, pixels: plot.width)
      let bottom = plot.y + plot.height
      canvas.fill(RasterWindow(x: column, y: bottom, width: 1, height: tick), with: ink)
      let text = label(value)
      canvas.draw(
        text, x: column - BitmapFont.width(of: text, scale: scale) / 2, y: bottom + tick + tickGap,
        scale: scale, colour: ink)
    }
    for value in yTicks {
      let row =
        plot.y + plot.height - 1 - offset(of: value, from: yLow, to: yHigh, pixels: plot.height)
      canvas.fill(RasterWindow(x: plot.x - tick, y: row, width: tick, height: 1), with: ink)
      let text = label(value)
      canvas.draw(
        text, x: plot.x - tick - Layout.sideLabelGap - BitmapFont.width(of: text, scale: scale),
        y: row - labelHeight / 2, scale: scale, colour: ink)
    }
    canvas.draw(
      x.title, x: plot.x + (plot.width - BitmapFont.width(of: x.title, scale: scale)) / 2,
      y: layout.xTitleTop, scale: scale, colour: ink)
    canvas.drawUpwards(
      y.title, x: Layout.margin,
      bottom: plot.y + (plot.height + BitmapFont.width(of: y.title, scale: scale)) / 2,
      scale: scale, colour: ink)

    for row in 0..<bar.height {
      let t = bar.height > 1 ? 1 - Float(row) / Float(bar.height - 1) : 0.5
      canvas.fill(
        RasterWindow(x: bar.x, y: bar.y + row, width: bar.width, height: 1),
        with: ramp.colour(at: t))
    }
    canvas.outline(bar, with: QuickLook.frame)
    let span = range.upperBound - range.lowerBound
    for value in barTicks {
      let share = span > 0 ? (value - range.lowerBound) / span : 0.5
      let row = bar.y + Int(((1 - share) * Float(bar.height - 1)).rounded())
      let right = bar.x + bar.width
      canvas.fill(RasterWindow(x: right, y: row, width: tick, height: 1), with: ink)
      canvas.draw(
        label(value), x: right + tick + Layout.sideLabelGap, y: row - labelHeight / 2, scale: scale,
        colour: ink)
    }
    canvas.drawUpwards(
      unit, x: layout.unitLeft,
      bottom: bar.y + (bar.height + BitmapFont.width(of: unit, scale: scale)) / 2, scale: scale,
      colour: ink)
    return canvas
  }

  /// Round values from `low` to `high`: multiples of the smallest step of 1, 2 or 5 × 10ⁿ
  /// that leaves at most seven of them; just `low` when the span is empty.
  static func ticks(from low: Float, to high: Float) -> [Float] {
    let span = Double(high) - Double(low)
    guard span > 0 else { return [low] }
    let rough = span / 6
    let magnitude = pow(10, log10(rough).rounded(.down))
    let step = [1.0, 2, 5, 10].lazy.map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) }!
    // The slack keeps ends that are multiples of the step despite rounding (1.0 / 0.2).
    let first = Int((Double(low) / step - 1e-6).rounded(.up))
    let last = Int((Double(high) / step + 1e-6).rounded(.down))
    guard first <= last else { return [] }
    return (first...last).map { Float(Double($0) * step) }
  }

  /// A tick label: whole numbers in full ("1500", not "1.5e+03"), others as quick-look
  /// labels (three significant digits).
  static func label(_ value: Float) -> String {
    value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : QuickLook.label(value)
  }

  /// The pixel of `value` along an axis from `low` to `high` drawn over `pixels`.
  private static func offset(of value: Float, from low: Float, to high: Float, pixels: Int) -> Int {
    min(max(Int(((value - low) / (high - low) * Float(pixels)).rounded()), 0), pixels - 1)
  }

  /// Where each part of a heat map goes, in image pixels (see `write`).
  struct Layout {
    static let margin = QuickLookLayout.margin
    static let gap = QuickLookLayout.gap
    static let plotWidth = 480
    static let plotHeight = 360
    static let barWidth = QuickLookLayout.barHeight
    /// Between the plot and its colour bar.
    static let barGap = 2 * QuickLookLayout.gap
    /// Between a tick and a label beside it, wide enough that the tick cannot read as a
    /// minus sign.
    static let sideLabelGap = QuickLookLayout.labelGap

    let cellWidth: Int
    let cellHeight: Int
    let title: RasterWindow
    let plot: RasterWindow
    let colourBar: RasterWindow
    /// Where the x axis title's line starts.
    let xTitleTop: Int
    /// The left of the colour bar's unit, which reads upwards.
    let unitLeft: Int
    let width: Int
    let height: Int

    init(columns: Int, rows: Int, title: String, yLabelWidth: Int, barLabelWidth: Int) {
      let text = QuickLookLayout.textHeight
      let ticks = QuickLookLayout.tickLength + QuickLookLayout.tickLabelGap
      let sideTicks = QuickLookLayout.tickLength + Self.sideLabelGap
      cellWidth = max(1, (Self.plotWidth + columns - 1) / columns)
      cellHeight = max(1, (Self.plotHeight + rows - 1) / rows)
      self.title = RasterWindow(
        x: Self.margin, y: Self.margin,
        width: BitmapFont.width(of: title, scale: QuickLookLayout.textScale), height: text)
      plot = RasterWindow(
        x: Self.margin + text + Self.gap + yLabelWidth + sideTicks,
        y: self.title.y + text + Self.gap, width: columns * cellWidth, height: rows * cellHeight)
      colourBar = RasterWindow(
        x: plot.x + plot.width + Self.barGap, y: plot.y, width: Self.barWidth,
        height: plot.height)
      xTitleTop = plot.y + plot.height + ticks + text + Self.gap
      unitLeft =
        colourBar.x + colourBar.width + sideTicks + barLabelWidth + QuickLookLayout.labelGap
      width = max(unitLeft + text, self.title.x + self.title.width) + Self.margin
      height = xTitleTop + text + Self.margin
    }
  }
}

extension Canvas {
  /// Draws `text` turned a quarter left, reading from the bottom up as y axis titles do:
  /// the tops of the letters face left at `x`, and the first letter starts at `bottom`.
  mutating func drawUpwards(
    _ text: String, x: Int, bottom: Int, scale: Int, colour: Colour
  ) {
    for (position, character) in text.enumerated() {
      let start = bottom - position * BitmapFont.advance * scale
      for (row, bits) in BitmapFont.rows(of: character).enumerated() {
        for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
          fill(
            RasterWindow(
              x: x + row * scale, y: start - (column + 1) * scale, width: scale, height: scale),
            with: colour)
        }
      }
    }
  }
}
