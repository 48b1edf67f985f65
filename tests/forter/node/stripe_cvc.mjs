// The seed's "Securely paying using a newly collected CVC token with Stripe" example.
// Changes: the proxy address (FORTER_PROXY_URL); `fs` is imported (the seed uses it without
// importing it); FORTER_CVC_TOKEN, when set, adds the forter-cvc-token header the seed's
// sample leaves out (without it, {{ cvc }} with a multi-use token is a 556); the results print,
// for an error with what stripe-node parsed and the exception it raised while doing so.
import {HttpsProxyAgent} from "https-proxy-agent";
import url from "url";
import Stripe from "stripe";
import tls from 'tls';
import fs from "fs/promises";

const PROXY = process.env.FORTER_PROXY_URL ?? "https://pci-proxy-sandbox.checkouttools.com";
const cvcHeader = process.env.FORTER_CVC_TOKEN ? {"forter-cvc-token": process.env.FORTER_CVC_TOKEN} : {};

const stripe = Stripe("sk_test_********************");
const secureProxyHttpsAgent = new HttpsProxyAgent(PROXY,{
  // Passing the "ca" option will override the default Mozilla trusted CA bundle, so we need
  // to specify it explicitly again.
  ca: [...tls.rootCertificates, await fs.readFile('./forter-proxy-ca.pem')],
  headers: {
    "proxy-authorization": `Basic ${btoa('site_id:site_secret')}`,
    "forter-token": "ftr1df95272f9e204c5791427722cc4ef407",
    ...cvcHeader,
  },
});
stripe.setHttpAgent(secureProxyHttpsAgent);
try {
  const cvcToken = await stripe.tokens.create({
    cvc_update: { cvc: "{{ cvc }}" },
  });
  console.log(JSON.stringify({step: "cvc_update", data: cvcToken}));
  const paymentIntent = await stripe.paymentIntents.create({
    payment_method: 'abcd',
    customer: '1234',
    amount: 1099,
    currency: 'usd',
    confirmation_method: 'manual',
    confirm: true,
    payment_method_options: {card: {cvc_token: cvcToken}},
  });
  console.log(JSON.stringify({step: "payment_intent", data: paymentIntent}));
} catch (error) {
  // stripe-node keeps what it parsed (`raw.response`) and what it threw (`raw.exception`).
  const exception = error.raw?.exception;
  const parsed = error.raw?.response;
  console.log(JSON.stringify({
    step: "error",
    status: error.statusCode ?? error.raw?.statusCode,
    message: error.message,
    detail: String(error.detail ?? ""),
    exception: exception ? `${exception.name}: ${exception.message}` : null,
    parsed: typeof parsed === "object" && parsed !== null
      ? {error: parsed.error?.type ?? parsed.error, code: parsed.code, status: parsed.error?.statusCode}
      : parsed ?? null,
  }));
}
void url;
