//! Any bytes as a file or stdin stream (gzip, zip, XML, mbox, ...): unpacking never panics
//! and stays within small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let mut drain = common::Drain;
    let _ = rua_unpack::unpack_reader("fuzz", data, &common::limits(), &mut drain);
});
