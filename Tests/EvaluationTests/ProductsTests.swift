import Foundation
import TestSupport
import Testing

@testable import Evaluation

@Suite struct ProductsTests {
  static func handWorked() throws -> EnsembleEvaluation {
    try EnsembleMetrics.evaluate(
      labels: ROCCurveTests.labels, probabilities: ROCCurveTests.scores,
      observedDensity: [3, 2, 0, 1, 0, 0, 0], predictedDensity: [2.5, 2, 0.5, 0, 0, 1, 0])
  }

  @Test func metricsCSVListsEveryKeyInOrder() throws {
    let csv = MetricsCSV.metrics(try Self.handWorked().metrics)
    let rows = csv.split(separator: "\n")
    #expect(rows.first == "key,value")
    #expect(
      rows.dropFirst().map { $0.split(separator: ",")[0] }
        == MetricsSummary.CodingKeys.allCases.map { Substring($0.rawValue) })
    #expect(rows.contains("auc,0.7916666666666666"))
    #expect(rows.contains("iou,0.5"))
    #expect(rows.contains("threshold,0.5"))
    #expect(rows.contains("true_positives,2"))
  }

  @Test func rocCSVHasOneRowPerPoint() throws {
    let csv = MetricsCSV.roc(try Self.handWorked().roc)
    #expect(
      csv
        == """
        threshold,fpr,tpr
        inf,0.0,0.0
        0.8,0.0,0.3333333333333333
        0.7,0.25,0.6666666666666666
        0.4,0.75,1.0
        0.1,1.0,1.0

        """)
  }

  @Test func rocFigureHasCurvesLegendAndChanceLine() throws {
    let curve = try Self.handWorked().roc
    let svg = ROCFigure.svg([("ensemble", curve), ("a <b> & c", curve)])
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<polyline").count == 3)
    #expect(svg.contains("ensemble (AUC 0.792)"))
    #expect(svg.contains("a &lt;b&gt; &amp; c (AUC 0.792)"))
    #expect(svg.contains(">chance</text>"))
    #expect(
      svg.contains(">False positive rate</text>") && svg.contains(">True positive rate</text>"))
    #expect(svg.contains(">0.2</text>") && svg.contains(">1.0</text>"))
  }

  /// Points within 0.002 of the last kept one are dropped; the ends stay.
  @Test func rocThinningKeepsTheEnds() {
    let points = (0...10_000).map {
      ROCCurve.Point(
        threshold: Float(10_000 - $0), falsePositiveRate: Double($0) / 10_000,
        truePositiveRate: (Double($0) / 10_000).squareRoot())
    }
    let thinned = ROCFigure.thinned(points)
    #expect(thinned.first == points.first && thinned.last == points.last)
    #expect(thinned.count < 1_200)
    for (a, b) in zip(thinned.dropLast(2), thinned.dropFirst().dropLast()) {
      #expect(
        b.falsePositiveRate - a.falsePositiveRate >= 0.002
          || b.truePositiveRate - a.truePositiveRate >= 0.002)
    }
  }

  @Test func scatterIsCappedAndDeterministic() {
    let count = 60_000
    let observed = (0..<count).map { Float(($0 * 7_919) % 10_007) / 100 }
    let predicted = (0..<count).map { Float(($0 * 104_729) % 10_009) / 100 }
    let svg = DensityScatterFigure.svg(observed: observed, predicted: predicted)
    #expect(svg.components(separatedBy: "<circle").count - 1 == DensityScatterFigure.pointLimit)
    #expect(svg == DensityScatterFigure.svg(observed: observed, predicted: predicted))
    #expect(svg.utf8.count < 1_000_000)
    #expect(svg.contains(">20000 of 60000 distinct positions drawn (fixed sample)</text>"))
    #expect(svg.contains(">Observed density (% of cell)</text>"))
    #expect(svg.contains(">Predicted density (% of cell)</text>"))
  }

  @Test func scatterDrawsEachDistinctPositionOnceWithTheOneToOneLine() {
    let svg = DensityScatterFigure.svg(
      observed: [0, 0, 0, 1, 2], predicted: [0, 0, 0.5, 1, 1.5], note: "R 0.9")
    #expect(svg.components(separatedBy: "<circle").count - 1 == 4)
    #expect(svg.contains("stroke=\"#d62728\""), "the 1:1 line")
    #expect(svg.contains(">R 0.9</text>") && svg.contains(">5 cells; dashed line: 1:1</text>"))
  }

  @Test func sampleIsSortedDistinctAndFixed() {
    let sample = DensityScatterFigure.sample(1_000, limit: 100)
    #expect(sample.count == 100 && Set(sample).count == 100)
    #expect(sample == sample.sorted() && sample.allSatisfy { (0..<1_000).contains($0) })
    #expect(sample == DensityScatterFigure.sample(1_000, limit: 100))
    #expect(DensityScatterFigure.sample(5, limit: 100) == [0, 1, 2, 3, 4])
  }

  @Test func productsAreWrittenToTheDirectory() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("nested/out").path
    try EvaluationProducts.write(
      try Self.handWorked(), observedDensity: [3, 2, 0, 1, 0, 0, 0],
      predictedDensity: [2.5, 2, 0.5, 0, 0, 1, 0], name: "ensemble", to: out)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        == EvaluationProducts.fileNames.sorted())
    let json = try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))
    #expect(try JSONDecoder().decode(MetricsSummary.self, from: json) == Self.handWorked().metrics)
  }
}
