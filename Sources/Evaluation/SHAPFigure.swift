import Foundation

/// The seed's explanation figures from SHAP values (rows × features): the mean |SHAP|
/// per feature as bars, a beeswarm (each row's SHAP value of each feature, coloured from
/// the feature's low values in blue to its high values in red), and partial dependence
/// curves.
public enum SHAPFigure {
  /// Features ranked by mean |SHAP|, largest on top.
  public static func bars(names: [String], meanAbsolute: [Double], title: String) -> String {
    let order = names.indices.sorted { meanAbsolute[$0] > meanAbsolute[$1] }
    var plot = SVGPlot(
      title: title, x: .covering(0...(meanAbsolute.max() ?? 1), title: "Mean |SHAP| (log-odds)"),
      y: .covering(0...Double(names.count), title: ""))
    let band = SVGPlot.area.size / Double(max(1, names.count))
    for (rank, feature) in order.enumerated() {
      let top = SVGPlot.area.top + Double(rank) * band
      plot.append(
        SVGPlot.element(
          "rect",
          [
            "x": SVGPlot.number(plot.px(0)), "y": SVGPlot.number(top + band * 0.15),
            "width": SVGPlot.number(plot.px(meanAbsolute[feature]) - plot.px(0)),
            "height": SVGPlot.number(band * 0.7), "fill": SVGPlot.colour(0),
          ]))
      plot.append(
        SVGPlot.text(
          names[feature], x: plot.px(0) + 6, y: top + band / 2,
          ["dominant-baseline": "middle", "font-size": "11"]))
    }
    return plot.document
  }

  /// One row of dots per feature (ranked as `bars`), at its SHAP value, jittered
  /// vertically, coloured by the feature's value within its range (`scaled`, 0–1, NaN grey).
  public static func beeswarm(
    names: [String], shap: [[Float]], scaled: [[Float]], title: String
  ) -> String {
    let columns = names.count
    var meanAbsolute = [Double](repeating: 0, count: columns)
    for row in shap { for c in 0..<columns { meanAbsolute[c] += Double(abs(row[c])) } }
    let order = names.indices.sorted { meanAbsolute[$0] > meanAbsolute[$1] }
    let values = shap.flatMap { $0 }.map(Double.init)
    var plot = SVGPlot(
      title: title,
      x: .covering((values.min() ?? -1)...(values.max() ?? 1), title: "SHAP value (log-odds)"),
      y: .covering(0...Double(columns), title: ""))
    let band = SVGPlot.area.size / Double(max(1, columns))
    var jitter: UInt64 = 0x9E37_79B9
    for (rank, feature) in order.enumerated() {
      let middle = SVGPlot.area.top + (Double(rank) + 0.5) * band
      for (row, values) in shap.enumerated() {
        jitter = jitter &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let offset = (Double(jitter >> 40) / Double(1 << 24) - 0.5) * band * 0.7
        let share = scaled[row][feature]
        let colour =
          share.isNaN
          ? "#999"
          : String(
            format: "#%02x%02x%02x", Int(40 + 200 * share), 60, Int(40 + 200 * (1 - share)))
        plot.append(
          SVGPlot.element(
            "circle",
            [
              "cx": SVGPlot.number(plot.px(Double(values[feature]))),
              "cy": SVGPlot.number(middle + offset), "r": "1.6", "fill": colour,
              "fill-opacity": "0.7",
            ]))
      }
      plot.append(
        SVGPlot.text(
          names[feature], x: SVGPlot.area.left + 4, y: middle - band * 0.38,
          ["font-size": "10"]))
    }
    return plot.document
  }

  /// Mean predicted probability as each feature moves over its range (its share of the
  /// way from minimum to maximum on the x axis), one curve per feature.
  public static func partialDependence(
    names: [String], shares: [Double], probabilities: [[Double]], title: String
  ) -> String {
    let all = probabilities.flatMap { $0 }
    var plot = SVGPlot(
      title: title, x: .covering(0...1, title: "Share of the feature's range"),
      y: .covering((all.min() ?? 0)...(all.max() ?? 1), title: "Mean P(landslide)"))
    for (index, name) in names.enumerated() {
      let colour = SVGPlot.colour(index)
      let points = shares.indices.map {
        SVGPlot.number(plot.px(shares[$0])) + ","
          + SVGPlot.number(plot.py(probabilities[index][$0]))
      }
      plot.append(
        SVGPlot.element(
          "polyline",
          [
            "points": points.joined(separator: " "), "fill": "none", "stroke": colour,
            "stroke-width": "2",
          ]))
      let y = SVGPlot.area.top + 18 + 20 * Double(index)
      let x = SVGPlot.area.left + 12
      plot.append(SVGPlot.line(x, y, x + 24, y, ["stroke": colour, "stroke-width": "2"]))
      plot.append(SVGPlot.text(name, x: x + 30, y: y, ["dominant-baseline": "middle"]))
    }
    return plot.document
  }
}
