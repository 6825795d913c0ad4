/// An RGBA image being drawn: four 8-bit channels per pixel, interleaved, rows top to
/// bottom; the layout GDAL takes in one RasterIO call.
struct Canvas {
  let width: Int
  let height: Int
  var bytes: [UInt8]

  init(width: Int, height: Int, background: Colour) {
    self.width = width
    self.height = height
    self.bytes = [UInt8](repeating: 0, count: width * height * 4)
    fill(RasterWindow(x: 0, y: 0, width: width, height: height), with: background)
  }

  /// Paints the part of `rectangle` that lies on the canvas.
  mutating func fill(_ rectangle: RasterWindow, with colour: Colour) {
    let left = max(rectangle.x, 0)
    let right = min(rectangle.x + rectangle.width, width)
    let top = max(rectangle.y, 0)
    let bottom = min(rectangle.y + rectangle.height, height)
    guard left < right, top < bottom else { return }
    let width = width
    bytes.withUnsafeMutableBufferPointer { pixels in
      for y in top..<bottom {
        for x in left..<right {
          let index = (y * width + x) * 4
          pixels[index] = colour.red
          pixels[index + 1] = colour.green
          pixels[index + 2] = colour.blue
          pixels[index + 3] = colour.alpha
        }
      }
    }
  }

  /// Draws a one-pixel outline just outside `rectangle`, so that the rectangle's own pixels
  /// (map cells, ramp colours) stay as they are.
  mutating func outline(_ rectangle: RasterWindow, with colour: Colour) {
    let (x, y, w, h) = (rectangle.x - 1, rectangle.y - 1, rectangle.width + 2, rectangle.height + 2)
    fill(RasterWindow(x: x, y: y, width: w, height: 1), with: colour)
    fill(RasterWindow(x: x, y: y + h - 1, width: w, height: 1), with: colour)
    fill(RasterWindow(x: x, y: y, width: 1, height: h), with: colour)
    fill(RasterWindow(x: x + w - 1, y: y, width: 1, height: h), with: colour)
  }

  /// Draws `text` in the bitmap font with its top-left corner at (x, y), each font pixel a
  /// `scale` × `scale` square.
  mutating func draw(_ text: String, x: Int, y: Int, scale: Int, colour: Colour) {
    for (position, character) in text.enumerated() {
      let left = x + position * BitmapFont.advance * scale
      for (row, bits) in BitmapFont.rows(of: character).enumerated() {
        for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
          fill(
            RasterWindow(x: left + column * scale, y: y + row * scale, width: scale, height: scale),
            with: colour)
        }
      }
    }
  }
}
