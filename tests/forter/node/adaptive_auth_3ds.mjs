// The seed's "Advanced 3DS integration using a Forter token (NodeJS)" example.
// Changes: the proxy address comes from FORTER_PROXY_URL; https-proxy-agent 7 takes the proxy
// URL first and the options (ca, headers) second (the seed spreads url.parse() into one
// object, the v5 style, whose headers v7 would ignore); the answer is printed.
import {HttpsProxyAgent} from "https-proxy-agent";
import axios from "axios";
import fs from "fs/promises";

const PROXY = process.env.FORTER_PROXY_URL ?? "https://pci-proxy-sandbox.checkouttools.com";

const secureProxyHttpsAgent = new HttpsProxyAgent(PROXY, {
  ca: [await fs.readFile('./forter-proxy-ca.pem')], // Contains Forter's custom CA certificate
  headers: {
    "proxy-authorization": `Basic ${btoa('site_id:site_secret')}`,
    "forter-token": "ftr1df95272f9e204c5791427722cc4ef407",
  },
});

// Securely making a connection to Forter's 3DS API
axios.post(
  "https://api.forter-secure.com/v3/adaptive-auth/3ds/init",
  {
    fullCreditCard: "{{ card_number }}",
    nameOnCard: "{{ card_holder_name }}",
    orderId: "235631407",
    expirationMonth: "{{ expiration_month }}",
    expirationYear: "{{ expiration_year }}",
  },
  {
    httpsAgent: secureProxyHttpsAgent,
    headers: {
      'x-forter-siteid': 'SITE_ID',
      'api-version': 'API_VERSION'
    },
    auth: {
      username: 'SITE_SECRET',
      password: ''
    }
  }
).then((response) => console.log(JSON.stringify({status: response.status, data: response.data})))
 .catch((error) => { console.error(error.message, JSON.stringify(error.response?.data)); process.exit(1); });
