/**
 * Money: integer minor units, ISO 4217 currencies with their exponents, exact display strings.
 * Never a float (SPEC 1).
 */
import { amountMinorMax } from "./limits.js";

/** Active ISO 4217 codes whose exponent is not 2. */
const exponentExceptions: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** Active ISO 4217 codes with exponent 2. */
const twoDecimal = (
  "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD " +
  "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL " +
  "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR " +
  "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD " +
  "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC " +
  "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
).split(" ");

const exponents = new Map<string, number>([
  ...twoDecimal.map((code) => [code, 2] as const),
  ...Object.entries(exponentExceptions),
]);

/** True when `code` is an active ISO 4217 currency code Bursar knows. */
export function isCurrency(code: string): boolean {
  return exponents.has(code);
}

/** The number of decimal places of a currency's minor unit (GBP 2, JPY 0, KWD 3). */
export function currencyExponent(code: string): number {
  const exponent = exponents.get(code);
  if (exponent === undefined) throw new Error(`unknown currency ${code}`);
  return exponent;
}

/** True for an amount Bursar accepts: a positive safe integer no larger than `amountMinorMax`. */
export function isValidAmountMinor(amountMinor: number): boolean {
  return Number.isSafeInteger(amountMinor) && amountMinor > 0 && amountMinor <= amountMinorMax;
}

/**
 * Formats minor units as a decimal string without grouping.
 * @example formatMinor(50000, "GBP") // "500.00"
 */
export function formatMinor(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) throw new Error(`not an exact amount: ${amountMinor}`);
  const exponent = currencyExponent(currency);
  const sign = amountMinor < 0 ? "-" : "";
  const digits = String(Math.abs(amountMinor));
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, "0");
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Parses a decimal string in major units into minor units, exactly (no floats). Returns null when
 * the text is not a plain decimal, has more decimals than the currency allows, or is out of range.
 * @example parseMajor("12.5", "USD") // 1250
 */
export function parseMajor(text: string, currency: string): number | null {
  const match = /^(\d{1,16})(?:\.(\d{1,4}))?$/.exec(text.trim());
  if (!match) return null;
  const exponent = currencyExponent(currency);
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) return null;
  const amount = Number(match[1]! + fraction.padEnd(exponent, "0"));
  return Number.isSafeInteger(amount) && amount <= amountMinorMax ? amount : null;
}
