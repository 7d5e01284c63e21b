-- Mobile sync writes the JSON of assets and their EXIF in Rust for every stream now; the SQL
-- builders the album streams used would only be a second definition of the same shapes.
DROP FUNCTION IF EXISTS sync_asset_v2(asset, boolean);
DROP FUNCTION IF EXISTS sync_asset_exif_v1(asset_exif);
