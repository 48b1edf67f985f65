<?php
// The seed's call with its documented inputs.
require __DIR__ . '/seed_generate_headers.php';
echo generateHeaders("myPartnerLogin", "myPartnerPassphrase", "my random nonce", 1400000000);
