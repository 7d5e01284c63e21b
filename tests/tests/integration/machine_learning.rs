//! Machine learning on the server, against a real darkroom-ml started by the tests: smart
//! search and duplicate detection so far.

mod duplicates;
mod smart_search;
