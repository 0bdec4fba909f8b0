//! A visitor that reads every payload to its end, and small limits so bombs stay cheap.

use rua_unpack::{Limits, Payload, Provenance, UnpackError, Visitor};

pub struct Drain;

impl Visitor for Drain {
    type Error = ();

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), ()> {
        let _ = std::io::copy(payload.reader, &mut std::io::sink());
        Ok(())
    }

    fn reject(&mut self, _: &Provenance, _: UnpackError, _: Option<&[u8]>) -> Result<(), ()> {
        Ok(())
    }
}

pub fn limits() -> Limits {
    Limits { max_message_bytes: 1 << 20, max_decompressed_bytes: 8 << 20, max_zip_members: 64, max_depth: 4, max_other_report_bytes: 1 << 20 }
}
