import Foundation
import TestSupport
import Testing

@testable import GeoData

/// Quick-look PNGs and their parts: colour ramps, palettes, the bitmap font.
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
  }

  @Suite struct CategoricalPaletteTests {
    @Test func confusionClassesHaveTheirNamesAndDistinctColours() {
      let palette = CategoricalPalette.confusion
      let names = ConfusionClass.allCases.map { palette.category(of: $0.code)?.name }
      #expect(names == ["TP", "FP", "FN", "TN"])
      #expect(Set(palette.categories.map(\.colour)).count == 4)
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
  }
}
