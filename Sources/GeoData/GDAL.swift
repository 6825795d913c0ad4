import CGDAL

/// GDAL's process-wide set-up, done once on first use: register the drivers, route
/// GDAL's diagnostics to our errors instead of its default stderr printer, and cap the
/// block cache at 256 MiB (we read each window once, in order; GDAL's default of 5 % of
/// RAM only makes memory grow with the area).
let gdalSetUp: Void = {
  GDALAllRegister()
  CPLSetErrorHandler(CPLQuietErrorHandler)
  GDALSetCacheMax64(256 << 20)
}()

enum GDAL {
  /// Release name, e.g. "3.6.2".
  static var release: String {
    _ = gdalSetUp
    return String(cString: GDALVersionInfo("RELEASE_NAME"))
  }

  /// The last message GDAL reported on this thread, or `fallback` when it said nothing.
  static func lastError(or fallback: String) -> String {
    let message = String(cString: CPLGetLastErrorMsg())
    CPLErrorReset()
    return message.isEmpty ? fallback : message
  }

  /// Builds a NULL-terminated GDAL option list ("KEY=VALUE" strings), hands it to `body`
  /// and frees it afterwards.
  static func withOptions<R>(
    _ options: [String: String],
    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws -> R
  ) rethrows -> R {
    var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    for (key, value) in options.sorted(by: { $0.key < $1.key }) {
      list = CSLSetNameValue(list, key, value)
    }
    defer { CSLDestroy(list) }
    return try body(list)
  }
}

/// The version of the GDAL library this build links, e.g. "GDAL 3.6.2, released 2023/01/02".
public var gdalVersion: String {
  _ = gdalSetUp
  return String(cString: GDALVersionInfo("--version"))
}
