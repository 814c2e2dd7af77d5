// Parses an iCalendar document from stdin with ical.js (Mozilla's parser, independent of
// Haven's writer) and prints its events as JSON; exits non-zero if it does not parse.
import ICAL from 'ical.js';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const calendar = new ICAL.Component(ICAL.parse(text));
const events = calendar.getAllSubcomponents('vevent').map((v) => {
  const e = new ICAL.Event(v);
  return {
    uid: e.uid,
    summary: e.summary,
    location: e.location,
    description: e.description,
    start: e.startDate.toJSDate().toISOString(),
    end: e.endDate.toJSDate().toISOString(),
  };
});
console.log(JSON.stringify({ version: calendar.getFirstPropertyValue('version'), events }));
