import Foundation

/// ROC curves of several models on one plot, with the chance diagonal and a legend that
/// gives each curve's AUC.
public enum ROCFigure {
  /// The figure as SVG text; `curves` are drawn in order, each in its own colour.
  public static func svg(_ curves: [(name: String, curve: ROCCurve)], title: String = "ROC curve")
    -> String
  {
    var plot = SVGPlot(
      title: title,
      x: .init(title: "False positive rate", lower: 0, upper: 1, step: 0.2),
      y: .init(title: "True positive rate", lower: 0, upper: 1, step: 0.2))
    let chance: KeyValuePairs<String, String> = ["stroke": "#888", "stroke-dasharray": "6 4"]
    plot.append(SVGPlot.line(plot.px(0), plot.py(0), plot.px(1), plot.py(1), chance))
    for (index, entry) in curves.enumerated() {
      let coordinates = thinned(entry.curve.points).map {
        SVGPlot.number(plot.px($0.falsePositiveRate)) + ","
          + SVGPlot.number(plot.py($0.truePositiveRate))
      }
      plot.append(
        SVGPlot.element(
          "polyline",
          [
            "points": coordinates.joined(separator: " "), "fill": "none",
            "stroke": SVGPlot.colour(index), "stroke-width": "2",
          ]))
    }

    // The legend sits in the lower right, which a curve better than chance leaves empty.
    let entries =
      curves.enumerated().map { index, entry in
        (
          text: "\(entry.name) (AUC \(String(format: "%.3f", entry.curve.auc)))",
          style: ["stroke": SVGPlot.colour(index), "stroke-width": "2"]
            as KeyValuePairs<String, String>
        )
      } + [(text: "chance", style: chance)]
    let width = 44 + 7.5 * Double(entries.map(\.text.count).max() ?? 0)
    let height = 20 * Double(entries.count) + 8
    let left = plot.px(1) - 10 - width
    let top = plot.py(0) - 10 - height
    plot.append(
      SVGPlot.element(
        "rect",
        [
          "x": SVGPlot.number(left), "y": SVGPlot.number(top), "width": SVGPlot.number(width),
          "height": SVGPlot.number(height), "fill": "white", "fill-opacity": "0.9",
          "stroke": "#bbb",
        ]))
    for (row, entry) in entries.enumerated() {
      let y = top + 16 + 20 * Double(row)
      plot.append(SVGPlot.line(left + 8, y, left + 32, y, entry.style))
      plot.append(SVGPlot.text(entry.text, x: left + 38, y: y, ["dominant-baseline": "middle"]))
    }
    return plot.document
  }

  /// The curve with points closer than `tolerance` (in rate, both axes) to the last kept
  /// one dropped, the ends always kept: a curve over 170,000 distinct scores needs no more
  /// points than the plot has pixels.
  static func thinned(_ points: [ROCCurve.Point], tolerance: Double = 0.002) -> [ROCCurve.Point] {
    guard var last = points.first else { return [] }
    var kept = [last]
    for point in points.dropFirst().dropLast()
    where abs(point.falsePositiveRate - last.falsePositiveRate) >= tolerance
      || abs(point.truePositiveRate - last.truePositiveRate) >= tolerance
    {
      kept.append(point)
      last = point
    }
    if points.count > 1 { kept.append(points[points.count - 1]) }
    return kept
  }
}
