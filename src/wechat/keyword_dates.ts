/**
 * Dates and clock times as WeChat's subscribe-message `time` and `date` keywords take them (see
 * keyword_rules.ts for the rules and the stricter readings chosen): `2019年10月1日`, `2019年10月`,
 * `10月1日`, `2018-01-01`, `2018/01/01`, `2018.01.01`, `2018-01`, `01-01`, each of which must
 * exist, and 24-hour `HH:MM` or `HH:MM:SS`.
 *
 * @module
 */

const CLOCK = /^(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$/;
// Dates: 2019年10月1日, 2019年10月, 10月1日; 2018-01-01 (or / or ., one separator), 2018-01, 01-01.
const DATE_CN = /^(?:([0-9]{4})年)?([0-9]{1,2})月(?:([0-9]{1,2})日)?$/;
const DATE_YM_D = /^([0-9]{4})([-/.])([0-9]{2})(?:\2([0-9]{2}))?$/;
const DATE_MD = /^([0-9]{2})[-/.]([0-9]{2})$/;

function daysIn(month: number, year?: number): number {
  if (month === 2) {
    return year === undefined || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))
      ? 29
      : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isDate(text: string): boolean {
  let y: string | undefined, m: string, d: string | undefined;
  const cn = text.includes("月") ? DATE_CN.exec(text) : null;
  if (cn) {
    // A month alone is not a date: it needs a year or a day.
    if (cn[1] === undefined && cn[3] === undefined) return false;
    [y, m, d] = [cn[1], cn[2], cn[3]];
  } else {
    const ymd = DATE_YM_D.exec(text);
    const md = ymd ? null : DATE_MD.exec(text);
    if (ymd) [y, m, d] = [ymd[1], ymd[3], ymd[4]];
    else if (md) [y, m, d] = [undefined, md[1], md[2]];
    else return false;
  }
  const month = Number(m);
  if (month < 1 || month > 12) return false;
  const year = y === undefined ? undefined : Number(y);
  return d === undefined || (Number(d) >= 1 && Number(d) <= daysIn(month, year));
}

/**
 * One `time` point: a clock time, or a date, a space and a clock time.
 *
 * @example
 * ```ts
 * isTimePoint("09:05"); // true
 * isTimePoint("2019年10月1日 15:01"); // true
 * isTimePoint("9:05"); // false: hours are two digits
 * ```
 */
export function isTimePoint(text: string): boolean {
  const space = text.lastIndexOf(" ");
  if (space < 0) return CLOCK.test(text);
  return isDate(text.slice(0, space)) && CLOCK.test(text.slice(space + 1));
}

/**
 * One `date` point: a date, or a date, a space and a clock time.
 *
 * @example
 * ```ts
 * isDatePoint("2019-10-01"); // true
 * isDatePoint("2月29日"); // true: no year, so it may exist
 * isDatePoint("2019年2月29日"); // false
 * ```
 */
export function isDatePoint(text: string): boolean {
  const space = text.indexOf(" ");
  if (space < 0) return isDate(text);
  return isDate(text.slice(0, space)) && CLOCK.test(text.slice(space + 1));
}
