//! ESC/POS: encoder, receipt layout, decoder.
