import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A whole-raster layer kept on disk tile by tile (each tile contiguous, `TileLayout`
/// order), for what terrain needs again in a later pass: at national size the layers would
/// not fit in memory together. The file is unlinked as soon as it is open, so nothing is
/// left behind whatever happens.
final class ScratchLayer<Element: BitwiseCopyable> {
  let layout: TileLayout
  private let descriptor: Int32
  private let path: String

  init(_ name: String, layout: TileLayout) throws(RasterError) {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "landslide-\(name)-\(getpid())-\(UUID().uuidString)")
    descriptor = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else {
      throw RasterError(
        path: path, message: "cannot create scratch file: \(String(cString: strerror(errno)))")
    }
    unlink(path)
    self.layout = layout
    self.path = path
  }

  deinit { close(descriptor) }

  func write(_ tile: Int, _ values: [Element]) throws(RasterError) {
    let window = layout.window(tile)
    precondition(values.count == window.width * window.height)
    let offset = layout.offset(tile) * MemoryLayout<Element>.stride
    let failed = values.withUnsafeBytes { bytes -> Bool in
      var done = 0
      while done < bytes.count {
        let written = pwrite(
          descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if written <= 0 { return true }
        done += written
      }
      return false
    }
    if failed {
      throw RasterError(
        path: path, message: "cannot write scratch data: \(String(cString: strerror(errno)))")
    }
  }

  func read(_ tile: Int) throws(RasterError) -> [Element] {
    let window = layout.window(tile)
    let count = window.width * window.height
    let offset = layout.offset(tile) * MemoryLayout<Element>.stride
    var failed = false
    let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
      let bytes = UnsafeMutableRawBufferPointer(buffer)
      var done = 0
      while done < bytes.count {
        let read = pread(
          descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if read <= 0 {
          failed = true
          break
        }
        done += read
      }
      initialized = failed ? 0 : count
    }
    if failed {
      throw RasterError(path: path, message: "cannot read scratch data back")
    }
    return values
  }
}
