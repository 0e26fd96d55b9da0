import { extractEntities, postcodeDistrictOf, validatePostcodeDistrict, normalisePostcode } from '../../bot/referrals/entities';
import type { Entities } from '../../bot/referrals/types';

type Expect = Partial<Entities>;

/** [message, what must be extracted (exactly, for the kinds listed)] */
const CASES: [string, Expect][] = [
  // phones
  ['his number is 07700 900123 text him', { phones: ['+447700900123'] }],
  ['call +44 7700 900 123 after 6', { phones: ['+447700900123'] }],
  ['the deal line 07911-123456 keeps getting texts', { phones: ['+447911123456'] }],
  ['she wrote it as 0770090012 3 on the wall', { phones: ['+447700900123'] }],
  ['number is +44 (0)7700 900123', { phones: ['+447700900123'] }],
  ['landline at the flat is 01202 123456', { phones: ['+441202123456'] }],
  ['two numbers 07700900123 and 07700 900456', { phones: ['+447700900123', '+447700900456'] }],
  ['the line is 07xxx something, not sure of the rest', { phones: [] }],
  ['he had 2 bags and came back at 10:30 on 12/05/2024', { phones: [], vehicles: [], postcodes: [], addresses: [] }],
  ['I rang childline on 0800 1111 and nspcc 0808 800 5000', { phones: [] }],
  // vehicles
  ['silver golf reg AB12 CDE parked up', { vehicles: ['AB12CDE'], postcodes: [] }],
  ['car was ab12cde again, then a van LM69 XYZ', { vehicles: ['AB12CDE', 'LM69XYZ'] }],
  ['old black BMW, plate P123 ABC', { vehicles: ['P123ABC'] }],
  ['the car is an old one, ABC 123D', { vehicles: ['ABC123D'] }],
  ['I saw M4 the other day B4 the lads came', { vehicles: [], postcodes: [] }],
  // postcodes
  ['the flat is in BH1 4AA near the shops', { postcodes: ['BH1 4AA'] }],
  ['postcode bh14aa i think', { postcodes: ['BH1 4AA'] }],
  ['it happens round DT4 and sp7 mostly', { postcodes: ['DT4', 'SP7'] }],
  ['meet at 3am in the park', { postcodes: [] }],
  // addresses
  ['they are in flat 3, 23 alma road', { addresses: ['Flat 3, 23 Alma Road'] }],
  ['flat 12b above the chippy', { addresses: ['Flat 12B'] }],
  ['no 5 high st has kids going in', { addresses: ['5 High Street'] }],
  ['lives on Alma Road with her mum', { addresses: ['Alma Road'] }],
  ['2 bags down the road, 20 mins walk from the park', { addresses: [] }],
  ['got off the bus at Christchurch Road by the shops', { addresses: ['Christchurch Road'] }],
  ['they sit outside at number 14 all night', { addresses: ['Number 14'] }],
  // names and line names
  ['they call him Tiny and he runs things', { names: ['Tiny'] }],
  ['the older one goes by K-Dog', { names: ['K-Dog'] }],
  ['it is the Bandz line, everyone knows', { names: ['Bandz line'] }],
  ["ring the 'Smokey' line for it", { names: ['Smokey line'] }],
  ['the main man is known as Big M.', { names: ['Big M'] }],
  ['they call him tiny', { names: ['Tiny'] }],
  ['THEY CALL HIM TINY AND HIS MATE IS KNOWN AS BIGZ', { names: ['Tiny', 'Bigz'] }],
  ['a lad called Jayden gave her a phone', { names: ['Jayden'] }],
  ['he goes by bus to school, known as a good kid', { names: [] }],
  ['I called the police and I told my mum, then I called him back', { names: [] }],
  ['i think i should call them tomorrow, i is worried', { names: [] }],
  ['he got on the phone line to the deal line', { names: [] }],
  // handles
  ['add him @trapkid99 on there', { handles: ['@trapkid99'] }],
  ['snap: xyz_11 and insta is abc_123', { handles: ['snapchat:xyz_11', 'instagram:abc_123'] }],
  ['his tiktok @fast.money.uk is full of cash pics', { handles: ['tiktok:fast.money.uk'] }],
  ['email me at someone@example.com at 5pm, see you @ 6', { handles: [] }],
  ['he sends stuff on snap and insta all the time', { handles: [] }],
];

describe('extractEntities on realistic messy messages', () => {
  test.each(CASES)('%s', (text, expected) => {
    const got = extractEntities(text);
    for (const [kind, values] of Object.entries(expected) as [keyof Entities, string[]][]) {
      expect({ kind, values: got[kind] }).toEqual({ kind, values });
    }
  });

  test('a long realistic message', () => {
    const text =
      "Worried about my neighbour at flat 2, 14 Kings Road BH8 9QQ. Lads come all hours in a white van ab12 cde. " +
      "They call the older one Tiny, the number on the card was 07700-900-123 and they said it's the Bandz line. " +
      'One of them is @lilk_07 and snap: bandzzz.';
    const e = extractEntities(text);
    expect(e.phones).toEqual(['+447700900123']);
    expect(e.vehicles).toEqual(['AB12CDE']);
    expect(e.postcodes).toEqual(['BH8 9QQ']);
    expect(e.addresses).toEqual(['Flat 2, 14 Kings Road']);
    expect(e.names).toEqual(expect.arrayContaining(['Bandz line']));
    expect(e.handles).toEqual(['@lilk_07', 'snapchat:bandzzz']);
  });

  test('empty and non-text input give empty lists', () => {
    const empty = { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] };
    expect(extractEntities('')).toEqual(empty);
    expect(extractEntities(undefined as unknown as string)).toEqual(empty);
  });

  test('duplicates are removed', () => {
    expect(extractEntities('07700900123 or 07700 900123 or +447700900123').phones).toEqual(['+447700900123']);
  });

  test('fast on long text', () => {
    const text = 'they call him Tiny, 07700 900123, flat 3, 23 alma road, BH1 4AA, ab12cde, snap: xyz_1. '.repeat(200);
    const start = Date.now();
    extractEntities(text);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

describe('postcode helpers', () => {
  test('validatePostcodeDistrict', () => {
    expect(validatePostcodeDistrict('DT4')).toBe('DT4');
    expect(validatePostcodeDistrict(' bh1 ')).toBe('BH1');
    expect(validatePostcodeDistrict('BH23,')).toBe('BH23');
    expect(validatePostcodeDistrict('EC1A')).toBe('EC1A');
    expect(validatePostcodeDistrict('W1B')).toBe('W1B');
    expect(validatePostcodeDistrict('XX1')).toBeNull(); // not a UK postcode area
    expect(validatePostcodeDistrict('BH1 4AA')).toBeNull(); // a full postcode
    expect(validatePostcodeDistrict('hello')).toBeNull();
    expect(validatePostcodeDistrict('')).toBeNull();
  });

  test('postcodeDistrictOf', () => {
    expect(postcodeDistrictOf('BH1 4AA')).toBe('BH1');
    expect(postcodeDistrictOf('bh14aa')).toBe('BH1');
    expect(postcodeDistrictOf('DT11 7AB')).toBe('DT11');
    expect(postcodeDistrictOf('SP7')).toBe('SP7');
    expect(postcodeDistrictOf('not a postcode')).toBeNull();
  });

  test('normalisePostcode', () => {
    expect(normalisePostcode('bh14aa')).toBe('BH1 4AA');
    expect(normalisePostcode('BH1 4CA')).toBeNull(); // C is never used in the inward code
  });
});
