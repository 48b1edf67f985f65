// The seed's "Authorizing a transaction using worldpay's authorizations api and a token alias"
// example, as written; only the proxy address (FORTER_PROXY_URL) and printing the answer added.
import {HttpsProxyAgent} from "https-proxy-agent";
import url from "url";
import axios from "axios";
import fs from "fs/promises";
import tls from 'tls';

const PROXY = process.env.FORTER_PROXY_URL ?? "https://pci-proxy-sandbox.checkouttools.com";

const secureProxyHttpsAgent = new HttpsProxyAgent(PROXY,
{
  // Passing the "ca" option will override the default Mozilla trusted CA bundle, so we need
  // to specify it explicitly again.
  ca: [...tls.rootCertificates, await fs.readFile('./forter-proxy-ca.pem')], // Contains Forter's custom CA certificate
  headers: {
    "proxy-authorization": `Basic ${btoa('site_id:site_secret')}`,
    "forter-token-alias-key": "zooz",
    "forter-token-alias-value": "ABCABC123",
  },
});

// Securely calling worldpay's authorizations API
axios.post(
  "https://try.access.worldpay.com/payments/authorizations",
  // Note: we are using a stringified payload as worldpay uses integers to represent dates which becomes
  // invalid JSON when replaced with our placeholders
  `{
  "transactionReference": "Memory265-13/08/1876",
  "merchant": {
    "entity": "MindPalaceLtd"
  },
  "instruction": {
    "narrative": {
      "line1": "Mind Palace"
    },
    "value": {
      "currency": "GBP",
      "amount": 250
    },
    "paymentInstrument": {
      "type": "card/plain",
      "cardNumber": "{{ card_number }}",
      "cardExpiryDate": {
        "month": {{ expiration_month }},
        "year": {{ expiration_year }}
      }
    }
  }
}`,
  { httpsAgent: secureProxyHttpsAgent }
).then((response) => console.log(JSON.stringify({status: response.status, data: response.data})))
 .catch((error) => { console.error(error.message, JSON.stringify(error.response?.data)); process.exit(1); });
void url;
