import Foundation
import TestSupport
import Testing

@testable import GeoData

/// Quick-look PNGs and their parts: colour ramps, palettes, the bitmap font, rendering.
@Suite enum QuickLookTests {}

extension QuickLookTests {
  @Suite struct ColourRampTests {
    @Test func anchorsAreHitExactly() {
      let ramp = ColourRamp.viridis
      for (index, anchor) in ramp.anchors.enumerated() {
        #expect(ramp.colour(at: Float(index) / Float(ramp.anchors.count - 1)) == anchor)
      }
      #expect(ramp.colour(at: 0) == Colour(rgb: 0x440154))
      #expect(ramp.colour(at: 1) == Colour(rgb: 0xFDE725))
    }

    @Test func midpointsAreChannelAverages() {
      // Halfway between viridis's first two anchors, 0x440154 and 0x472D7B: (68 + 71) / 2 =
      // 69.5 and (84 + 123) / 2 = 103.5 round away from zero.
      #expect(ColourRamp.viridis.colour(at: 1 / 16) == Colour(red: 70, green: 23, blue: 104))
      let ramp = ColourRamp(anchors: [Colour(rgb: 0x000000), Colour(rgb: 0xFF8040)])
      #expect(ramp.colour(at: 0.5) == Colour(red: 128, green: 64, blue: 32))
      #expect(ramp.colour(at: 0.25) == Colour(red: 64, green: 32, blue: 16))
    }

    @Test func valuesOutsideTheRangeTakeTheEndColours() {
      let ramp = ColourRamp.yellowOrangeRed
      #expect(ramp.colour(at: -3) == Colour(rgb: 0xFFFFCC))
      #expect(ramp.colour(at: 7) == Colour(rgb: 0x800026))
      #expect(ramp.colour(for: 12, in: 2...10) == Colour(rgb: 0x800026))
      #expect(ramp.colour(for: 6, in: 2...10) == ramp.colour(at: 0.5))
      #expect(ramp.colour(for: 4, in: 4...4) == ramp.colour(at: 0.5))
    }

    @Test func divergingRampIsWhiteAtZero() {
      let ramp = ColourRamp.blueWhiteRed
      #expect(ramp.isDiverging)
      #expect(ramp.colour(for: 0, in: -2...2) == Colour(rgb: 0xF7F7F7))
      #expect(ramp.colour(for: -2, in: -2...2) == Colour(rgb: 0x2166AC))
      #expect(ramp.colour(for: 2, in: -2...2) == Colour(rgb: 0xB2182B))
    }

    @Test func defaultRangeSpansTheFiniteValues() {
      let values: [Float] = [0.3, .nan, -1.5, 0.9, .infinity]
      #expect(MapStyle.defaultRange(of: values, ramp: .viridis) == -1.5...0.9)
      #expect(MapStyle.defaultRange(of: values, ramp: .blueWhiteRed) == -1.5...1.5)
      #expect(MapStyle.defaultRange(of: [0.2, 0.5], ramp: .blueWhiteRed) == -0.5...0.5)
      #expect(MapStyle.defaultRange(of: [.nan, .nan], ramp: .viridis) == 0...1)
    }
  }

  @Suite struct CategoricalPaletteTests {
    @Test func confusionClassesHaveTheirNamesAndDistinctColours() {
      let palette = CategoricalPalette.confusion
      let names = ConfusionClass.allCases.map { palette.category(of: $0.code)?.name }
      #expect(names == ["TP", "FP", "FN", "TN"])
      let colours = Set(palette.categories.map(\.colour) + [QuickLook.noDataColour])
      #expect(colours.count == 5)
      #expect(palette.category(of: 0)?.colour == Colour(rgb: 0xD55E00))
      #expect(palette.category(of: 1)?.colour == Colour(rgb: 0xE69F00))
      #expect(palette.category(of: 2)?.colour == Colour(rgb: 0x0072B2))
      #expect(palette.category(of: 3)?.colour == Colour(rgb: 0xE5F5E0))
    }

    @Test func onlyClassCodesHaveACategory() {
      let palette = CategoricalPalette.confusion
      for value: Float in [-1, 1.5, 4, .nan, .infinity] {
        #expect(palette.category(of: value) == nil)
      }
    }

    @Test func confusionClassComparesPredictionWithObservation() {
      #expect(ConfusionClass(predicted: true, observed: true) == .truePositive)
      #expect(ConfusionClass(predicted: true, observed: false) == .falsePositive)
      #expect(ConfusionClass(predicted: false, observed: true) == .falseNegative)
      #expect(ConfusionClass(predicted: false, observed: false) == .trueNegative)
    }
  }

  @Suite struct BitmapFontTests {
    @Test func labelCharactersHaveTheirOwnGlyphs() {
      let fallback = BitmapFont.rows(of: "?")
      let characters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,:-+%()/×²°"
      for character in characters {
        let rows = BitmapFont.rows(of: character)
        #expect(rows != fallback, "\(character)")
        #expect(rows.count == ("gjpqy".contains(character) ? 9 : 7), "\(character)")
        #expect(rows.allSatisfy { $0 < 0x20 }, "\(character)")
        #expect(rows.contains { $0 != 0 }, "\(character)")
      }
      #expect(BitmapFont.rows(of: "€") == fallback)
    }

    @Test func textWidthLeavesNoTrailingSpace() {
      #expect(BitmapFont.width(of: "", scale: 2) == 0)
      #expect(BitmapFont.width(of: "0", scale: 2) == 10)
      #expect(BitmapFont.width(of: "0.25", scale: 2) == 46)
    }

    @Test func tickLabelsHaveThreeSignificantDigits() {
      #expect(QuickLook.label(0.25) == "0.25")
      #expect(QuickLook.label(-1.5) == "-1.5")
      #expect(QuickLook.label(1) == "1")
      #expect(QuickLook.label(-0.0) == "0")
      #expect(QuickLook.label(0.123_456) == "0.123")
      #expect(QuickLook.label(12_345) == "1.23e+04")
    }
  }

  @Suite struct RenderingTests {
    /// The RGBA pixels of a PNG, read back through GDAL.
    struct Image {
      let width: Int
      let height: Int
      let bands: [[Float]]

      init(path: String) throws {
        let raster = try RasterDataset(path: path)
        #expect(raster.bandCount == 4)
        width = raster.grid.width
        height = raster.grid.height
        bands = try (0..<4).map { try raster.read(band: $0).values }
      }

      subscript(x: Int, y: Int) -> Colour {
        let channel = { UInt8(self.bands[$0][y * self.width + x]) }
        return Colour(red: channel(0), green: channel(1), blue: channel(2), alpha: channel(3))
      }
    }

    /// 8 × 6 cells rising from 0 (top left) to 1 (bottom right), no data at row 2, column 3.
    let values: [Float] = (0..<48).map { $0 == 19 ? .nan : Float($0) / 47 }

    @Test func continuousMapShowsEachCellInItsRampColour() throws {
      let directory = try TestPaths.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let path = directory.appendingPathComponent("susceptibility.png").path
      let style = MapStyle.continuous(.viridis, unit: "probability")
      try QuickLook.write(
        path: path, values: values, width: 8, height: 6, title: "Susceptibility", style: style)
      let image = try Image(path: path)

      // 480 / 8 = 60 pixels per cell: a 480 × 360 map at (16, 46) below the title.
      // Width 16 + 480 + 16; height 16 + 18 title + 12 + 360 + 12 + 45 legend + 16.
      #expect(image.width == 512)
      #expect(image.height == 479)
      let layout = QuickLookLayout(
        gridWidth: 8, gridHeight: 6, title: "Susceptibility", style: style)
      #expect(layout.cellSize == 60)
      #expect(layout.map == RasterWindow(x: 16, y: 46, width: 480, height: 360))
      #expect(layout.colourBar == RasterWindow(x: 16, y: 418, width: 321, height: 20))

      for row in 0..<6 {
        for column in 0..<8 {
          let value = values[row * 8 + column]
          let expected =
            value.isNaN ? QuickLook.noDataColour : ColourRamp.viridis.colour(for: value, in: 0...1)
          #expect(
            image[16 + column * 60 + 30, 46 + row * 60 + 30] == expected, "cell \(row), \(column)")
          // Nearest-neighbour enlargement: the cell's corners have its colour too.
          #expect(image[16 + column * 60, 46 + row * 60] == expected)
          #expect(image[16 + column * 60 + 59, 46 + row * 60 + 59] == expected)
        }
      }
      #expect(image[16 + 3 * 60 + 30, 46 + 2 * 60 + 30] == QuickLook.noDataColour)

      // The colour bar runs from the ramp's first anchor to its last, through its middle.
      #expect(image[16, 428] == Colour(rgb: 0x440154))
      #expect(image[16 + 160, 428] == ColourRamp.viridis.colour(at: 0.5))
      #expect(image[16 + 320, 428] == Colour(rgb: 0xFDE725))

      // The title is drawn in ink within its line, and the margin above it stays blank.
      let inked = (16..<34).flatMap { y in (16..<182).filter { image[$0, y] == QuickLook.ink } }
      #expect(inked.count > 100)
      #expect(
        (0..<16).allSatisfy { y in (0..<512).allSatisfy { image[$0, y] == QuickLook.background } })
      // Tick labels below the bar and the unit to its right are drawn too.
      #expect((445..<463).contains { y in (16..<337).contains { image[$0, y] == QuickLook.ink } })
      #expect((421..<439).contains { y in (345..<475).contains { image[$0, y] == QuickLook.ink } })

      // Only the finished file is left: no temporary file or GDAL sidecar.
      let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
      #expect(files == ["susceptibility.png"])
    }

    @Test func confusionMapShowsClassColoursAndAKey() throws {
      let directory = try TestPaths.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let path = directory.appendingPathComponent("confusion.png").path
      let classes: [ConfusionClass?] = [
        .truePositive, .falsePositive, .falseNegative, .trueNegative,
        nil, .trueNegative, .falsePositive, .truePositive,
      ]
      try QuickLook.write(
        path: path, values: classes.map { $0?.code ?? .nan }, width: 4, height: 2,
        title: "Confusion", style: .categorical(.confusion))
      let image = try Image(path: path)

      // 480 / 4 = 120 pixels per cell: a 480 × 240 map; the key is 21 pixels high (3 above
      // the names and 18 for them).
      #expect(image.width == 512)
      #expect(image.height == 16 + 18 + 12 + 240 + 12 + 21 + 16)
      let palette = CategoricalPalette.confusion
      for (index, kind) in classes.enumerated() {
        let expected = kind.map { palette.categories[$0.rawValue].colour } ?? QuickLook.noDataColour
        #expect(image[16 + index % 4 * 120 + 60, 46 + index / 4 * 120 + 60] == expected)
      }
      // Key entries: a 20-pixel box, 8, a two-letter name (22), 24 to the next box.
      for (index, category) in palette.categories.enumerated() {
        #expect(image[16 + index * 74 + 10, 46 + 240 + 12 + 10] == category.colour)
      }
    }

    @Test func mismatchedValuesAreRejectedNamingTheFile() throws {
      let error = #expect(throws: RasterError.self) {
        try QuickLook.write(
          path: "/tmp/q.png", values: [1, 2, 3], width: 2, height: 2, title: "",
          style: .continuous(.viridis, unit: ""))
      }
      #expect(error?.description == "/tmp/q.png: 3 values for a 2×2 grid of 4 cells")
      let codeError = #expect(throws: RasterError.self) {
        try QuickLook.write(
          path: "/tmp/q.png", values: [0, 1, 2.5, .nan], width: 2, height: 2, title: "",
          style: .categorical(.confusion))
      }
      #expect(codeError?.message == "cell at row 1, column 0 holds 2.5, not a class code 0…3")
    }

    @Test func unwritablePathIsAnErrorNamingItAndLeavesNoTemporaryFile() throws {
      let directory = try TestPaths.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let style = MapStyle.continuous(.viridis, unit: "")
      // A missing directory: GDAL cannot create the file at all.
      let missing = directory.appendingPathComponent("missing/map.png").path
      let createError = #expect(throws: RasterError.self) {
        try QuickLook.write(
          path: missing, values: values, width: 8, height: 6, title: "", style: style)
      }
      #expect(createError?.path == missing)
      #expect(createError?.message.isEmpty == false)
      // An existing directory: the PNG is written, but cannot be renamed over it.
      let occupied = directory.appendingPathComponent("occupied").path
      try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: false)
      let renameError = #expect(throws: RasterError.self) {
        try QuickLook.write(
          path: occupied, values: values, width: 8, height: 6, title: "", style: style)
      }
      #expect(renameError?.path == occupied)
      #expect(renameError?.message.contains("cannot rename") == true)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["occupied"])
    }
  }
}
