//! Any bytes as a message (as IMAP would hand them over): unpacking never panics and every
//! payload stream reads to an end or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let mut drain = common::Drain;
    let _ = rua_unpack::unpack_message("fuzz", data, &common::limits(), &mut drain);
});
