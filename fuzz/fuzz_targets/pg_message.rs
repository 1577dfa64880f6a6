#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cronos_secrets::fuzzing::pg_message(data));
