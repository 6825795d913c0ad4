import Foundation

/// The distribution of per-time-step explanation scores against time relative to the PGV
/// arrival (SPEC.md §2): per component a line through the bins' medians over a shaded band
/// from their 10th to their 90th percentile, all components on one plot.
public enum ExplanationFigure {
  /// - Parameters:
  ///   - seconds: bin centres, seconds after the PGV arrival, ascending.
  ///   - low, median, high: per bin, one value per component.
  ///   - components: the components' names, in the order of the values.
  public static func svg(
    seconds: [Double], low: [[Float]], median: [[Float]], high: [[Float]], components: [String],
    title: String = "Explanation score against time from the PGV arrival"
  ) -> String {
    let values = (low + high).flatMap { $0 }.map(Double.init).filter(\.isFinite)
    let lower = min(values.min() ?? 0, 0)
    let upper = max(values.max() ?? 1, lower + 1e-12)
    var plot = SVGPlot(
      title: title,
      x: .covering((seconds.first ?? 0)...(seconds.last ?? 1), title: "Seconds from PGV arrival"),
      y: .covering(lower...upper, title: "Score S (10–50–90 % of sites and steps)"))
    plot.append(
      SVGPlot.line(
        plot.px(0), plot.py(plot.y.lower), plot.px(0), plot.py(plot.y.upper),
        ["stroke": "#444", "stroke-dasharray": "4 3"]))
    for (component, name) in components.enumerated() {
      let colour = SVGPlot.colour(component)
      func point(_ index: Int, _ series: [[Float]]) -> String {
        SVGPlot.number(plot.px(seconds[index])) + ","
          + SVGPlot.number(plot.py(Double(series[index][component])))
      }
      let band =
        seconds.indices.map { point($0, high) } + seconds.indices.reversed().map { point($0, low) }
      plot.append(
        SVGPlot.element(
          "polygon",
          ["points": band.joined(separator: " "), "fill": colour, "fill-opacity": "0.18"]))
      plot.append(
        SVGPlot.element(
          "polyline",
          [
            "points": seconds.indices.map { point($0, median) }.joined(separator: " "),
            "fill": "none", "stroke": colour, "stroke-width": "2",
          ]))
      let y = SVGPlot.area.top + 18 + 20 * Double(component)
      let x = SVGPlot.area.left + 12
      plot.append(SVGPlot.line(x, y, x + 24, y, ["stroke": colour, "stroke-width": "2"]))
      plot.append(SVGPlot.text(name, x: x + 30, y: y, ["dominant-baseline": "middle"]))
    }
    return plot.document
  }
}
