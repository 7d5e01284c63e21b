//! Machine learning on the server, against a real darkroom-ml started by the tests: smart
//! search, duplicate detection, faces and people, OCR.

mod duplicates;
mod faces;
mod ocr;
mod smart_search;
