import Foundation
import TensorEngine

/// Observed against predicted landslide density, one dot per cell, with the 1:1 line.
public enum DensityScatterFigure {
  /// The most dots drawn: above this many distinct positions a fixed-seed sample is drawn,
  /// which keeps the file under about a megabyte and the same from run to run.
  public static let pointLimit = 20_000

  /// The figure as SVG text. Both axes share one range so that the 1:1 line is the
  /// diagonal. Cells landing on the same 0.1 px are drawn once. The caption in the top
  /// left (where a good model leaves no dots) starts with `note`, if any, for example
  /// the R and MAE.
  public static func svg(
    observed: [Float], predicted: [Float], note: String? = nil,
    title: String = "Landslide area density: observed vs predicted", pointLimit: Int = pointLimit
  ) -> String {
    precondition(observed.count == predicted.count, "one predicted density per observed one")
    let values = (observed + predicted).lazy.filter(\.isFinite).map(Double.init)
    let lower = min(0, values.min() ?? 0)
    let upper = values.max() ?? 1
    let axis = SVGPlot.Axis.covering(lower...max(upper, lower), title: "")
    var x = axis
    x.title = "Observed density (% of cell)"
    var y = axis
    y.title = "Predicted density (% of cell)"
    var plot = SVGPlot(title: title, x: x, y: y)

    var seen = Set<Int64>()
    var dots: [(x: String, y: String)] = []
    for (o, p) in zip(observed, predicted) where o.isFinite && p.isFinite {
      let (px, py) = (plot.px(Double(o)), plot.py(Double(p)))
      if seen.insert(Int64((px * 10).rounded()) << 32 | Int64((py * 10).rounded())).inserted {
        dots.append((SVGPlot.number(px), SVGPlot.number(py)))
      }
    }
    let drawn = sample(dots.count, limit: pointLimit).map { dots[$0] }
    plot.append("<g fill=\"#1f77b4\" fill-opacity=\"0.45\">")
    for dot in drawn { plot.append("<circle cx=\"\(dot.x)\" cy=\"\(dot.y)\" r=\"1.8\"/>") }
    plot.append("</g>")
    plot.append(
      SVGPlot.line(
        plot.px(axis.lower), plot.py(axis.lower), plot.px(axis.upper), plot.py(axis.upper),
        ["stroke": "#d62728", "stroke-width": "1.5", "stroke-dasharray": "6 4"]))
    var caption = [note, "\(observed.count) cells; dashed line: 1:1"].compactMap { $0 }
    if drawn.count < dots.count {
      caption.append("\(drawn.count) of \(dots.count) distinct positions drawn (fixed sample)")
    }
    for (row, line) in caption.enumerated() {
      plot.append(
        SVGPlot.text(
          line, x: plot.px(axis.lower) + 8, y: plot.py(axis.upper) + 18 + 16 * Double(row),
          ["font-size": "12"]))
    }
    return plot.document
  }

  /// `limit` of the indices `0..<count` in ascending order, chosen by a fixed-seed partial
  /// Fisher–Yates shuffle; all of them when there are no more than `limit`.
  static func sample(_ count: Int, limit: Int) -> [Int] {
    guard count > limit else { return Array(0..<count) }
    var indices = Array(0..<count)
    var generator = RandomGenerator(seed: 0)
    for position in 0..<limit {
      let chosen = position + Int(generator.next(upperBound: UInt64(count - position)))
      indices.swapAt(position, chosen)
    }
    return indices[..<limit].sorted()
  }
}
