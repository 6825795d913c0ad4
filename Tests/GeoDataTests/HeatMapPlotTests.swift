import Foundation
import TestSupport
import Testing

@testable import GeoData

/// Heat-map plots: their layout, cell and colour-bar pixels, round ticks, upward text and
/// bad input.
@Suite struct HeatMapPlotTests {
  typealias Image = QuickLookTests.RenderingTests.Image

  /// 3 columns × 4 rows rising from 0 (bottom left) to 1 (top right); no value at row 1,
  /// column 1.
  let values: [Float] = (0..<12).map { $0 == 4 ? .nan : Float($0) / 11 }
  let x = HeatMapPlot.Axis(title: "Days", first: 1, last: 3)
  let y = HeatMapPlot.Axis(title: "Total (mm)", first: 0, last: 30)

  @Test func cellsAxesAndColourBarAreWhereTheLayoutSays() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("surface.png").path
    let ramp = ColourRamp.yellowOrangeRed
    try HeatMapPlot.write(
      path: path, values: values, columns: 3, rows: 4, x: x, y: y, title: "Test", ramp: ramp,
      unit: "probability")
    let image = try Image(path: path)

    // Cells ⌈480 / 3⌉ = 160 by ⌈360 / 4⌉ = 90 pixels. The y ticks 0, 10, 20, 30 (edges −5…35)
    // are at most "10" wide: 22 pixels; the plot starts after margin 16, the upward title
    // 18, gap 12, labels 22, label gap 8 and tick 5: x = 81, y = 16 + 18 + 12 = 46. The bar
    // starts 24 after it (585); its labels 0, 0.2 … 1 are at most "0.2" wide (34), so the
    // unit's line starts at 585 + 20 + 13 + 34 + 8 = 660 and the image is 660 + 18 + 16
    // wide. Below the plot: tick 5, gap 2, labels 18, gap 12, x title 18, margin 16.
    let layout = HeatMapPlot.Layout(
      columns: 3, rows: 4, title: "Test", yLabelWidth: 22, barLabelWidth: 34)
    #expect(layout.plot == RasterWindow(x: 81, y: 46, width: 480, height: 360))
    #expect(layout.colourBar == RasterWindow(x: 585, y: 46, width: 20, height: 360))
    #expect(image.width == 694)
    #expect(image.height == 477)

    for row in 0..<4 {
      for column in 0..<3 {
        let value = values[row * 3 + column]
        let expected = value.isNaN ? QuickLook.noDataColour : ramp.colour(for: value, in: 0...1)
        let top = 46 + (3 - row) * 90
        let left = 81 + column * 160
        #expect(image[left + 80, top + 45] == expected, "cell \(row), \(column)")
        #expect(image[left, top] == expected)
        #expect(image[left + 159, top + 89] == expected)
      }
    }
    // The top-right cell holds the highest value: the ramp's dark-red end.
    #expect(image[81 + 2 * 160 + 80, 46 + 45] == Colour(rgb: 0x800026))
    #expect(image[81 + 80, 46 + 3 * 90 + 45] == Colour(rgb: 0xFFFFCC))
    #expect(image[81 + 160 + 80, 46 + 2 * 90 + 45] == QuickLook.noDataColour)

    // The bar runs from the high end (top) to the low end (bottom).
    #expect(image[595, 46] == Colour(rgb: 0x800026))
    #expect(image[595, 405] == Colour(rgb: 0xFFFFCC))

    // x ticks at 0.5, 1 … 3.5 over edges 0.5…3.5: value 1 is 80 pixels in; y tick 0 is 45
    // pixels up from the bottom (row 360); bar tick 0.6 is 0.4 × 359 down (row 190).
    #expect(image[161, 407] == QuickLook.ink)
    #expect(image[162, 407] == QuickLook.background)
    #expect(image[78, 360] == QuickLook.ink)
    #expect(image[78, 361] == QuickLook.background)
    #expect(image[607, 190] == QuickLook.ink)
    // Tick labels, the x title, the upward y title and unit are drawn in ink.
    let inked = { (xs: Range<Int>, ys: Range<Int>) in
      ys.contains { y in xs.contains { image[$0, y] == QuickLook.ink } }
    }
    #expect(inked(81..<561, 413..<431))
    #expect(inked(81..<561, 443..<461))
    #expect(inked(16..<34, 46..<406))
    #expect(inked(660..<678, 46..<406))
    #expect(!inked(0..<694, 0..<16))
  }

  @Test func ticksAreRoundValuesLabelledInFull() {
    #expect(HeatMapPlot.ticks(from: 0, to: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
    #expect(HeatMapPlot.ticks(from: -5, to: 35) == [0, 10, 20, 30])
    #expect(HeatMapPlot.ticks(from: 0.5, to: 30.5) == [5, 10, 15, 20, 25, 30])
    #expect(HeatMapPlot.ticks(from: 0.5, to: 5.5) == [1, 2, 3, 4, 5])
    #expect(HeatMapPlot.ticks(from: -2.04, to: 204) == [0, 50, 100, 150, 200])
    #expect(HeatMapPlot.ticks(from: 4, to: 4) == [4])
    #expect(
      [1500, 0, -20, 0.2, 2.5e6].map(HeatMapPlot.label) == ["1500", "0", "-20", "0.2", "2.5e+06"])
  }

  @Test func upwardTextTurnsAQuarterLeft() {
    var canvas = Canvas(width: 12, height: 12, background: QuickLook.background)
    canvas.drawUpwards("L", x: 0, bottom: 10, scale: 1, colour: QuickLook.ink)
    // L's stem (column 0, rows 0–6) lies along row 9, its foot (row 6) up column 6.
    var inked: Set<[Int]> = []
    for y in 0..<12 {
      for x in 0..<12 where canvas.bytes[(y * 12 + x) * 4] == QuickLook.ink.red {
        inked.insert([x, y])
      }
    }
    let stem = (0...6).map { [$0, 9] }
    let foot = (5...9).map { [6, $0] }
    #expect(inked == Set(stem + foot))
  }

  @Test func badInputNamesTheFileAndWritesNothing() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("bad.png").path
    func failure(
      values: [Float]? = nil, columns: Int = 3, rows: Int = 4, x: HeatMapPlot.Axis? = nil,
      y: HeatMapPlot.Axis? = nil, range: ClosedRange<Float>? = nil
    ) -> RasterError? {
      do {
        try HeatMapPlot.write(
          path: path, values: values ?? self.values, columns: columns, rows: rows, x: x ?? self.x,
          y: y ?? self.y, title: "Bad", ramp: .viridis, range: range, unit: "")
        return nil
      } catch { return error }
    }
    let cases: [(RasterError?, String)] = [
      (failure(values: [], columns: 0, rows: 4), "no cells"),
      (failure(values: [0, 1]), "2 values"),
      (failure(x: .init(title: "Days", first: 1, last: .nan)), "x axis runs from 1.0 to nan"),
      (failure(y: .init(title: "mm", first: .infinity, last: 30)), "y axis runs from inf"),
      (failure(y: .init(title: "mm", first: 30, last: 0)), "must rise"),
      (failure(range: 0...Float.infinity), "not finite"),
    ]
    for (error, message) in cases {
      let error = try #require(error, "\(message)")
      #expect(error.path == path)
      #expect(error.message.contains(message), "\(error.message)")
    }
    #expect(!FileManager.default.fileExists(atPath: path))
  }
}
