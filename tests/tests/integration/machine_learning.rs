//! Machine learning on the server, against a real darkroom-ml started by the tests: smart
//! search so far.

mod smart_search;
