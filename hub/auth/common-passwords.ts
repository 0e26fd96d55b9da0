// A short list of very common passwords (from public breach-frequency lists),
// lower case. Entries shorter than the minimum length are kept because the
// policy also compares the password with its letters and digits only and with
// trailing digits removed ("Password123!" → "password").
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012', '1234567890', '123456789', '12345678', '1234567', '123456', '12345', '111111111111',
  '000000000000', '123123123123', '987654321', '0987654321', 'qwertyuiop', 'qwerty', 'qwerty123', 'qwertyuiop123',
  '1q2w3e4r5t6y', '1q2w3e4r', 'qazwsxedc', 'qazwsxedcrfv', 'zaq12wsx', 'asdfghjkl', 'asdfghjkl123', 'zxcvbnm',
  'zxcvbnm123', 'password', 'password1', 'password12', 'password123', 'password1234', 'passwordpassword', 'passw0rd',
  'p4ssw0rd', 'letmein', 'letmeinplease', 'welcome', 'welcome1', 'welcome123', 'welcometothehub', 'iloveyou',
  'iloveyouforever', 'admin', 'administrator', 'admin123', 'adminadmin', 'rootroot', 'changeme', 'changemenow',
  'changeit', 'default', 'football', 'footballfootball', 'baseball', 'monkey', 'dragon', 'master', 'sunshine',
  'princess', 'shadow', 'superman', 'batman', 'trustno1', 'starwars', 'whatever', 'freedom', 'michael', 'jennifer',
  'liverpool', 'chelsea', 'arsenal', 'manchester', 'manchesterunited', 'tottenham', 'england', 'london', 'summer',
  'winter', 'autumn', 'spring', 'january', 'february', 'december', 'monday', 'friday', 'secret', 'secretpassword',
  'mypassword', 'mysecretpassword', 'correcthorsebatterystaple', 'correcthorse', 'thequickbrownfox', 'abcdefghijkl',
  'abc123', 'abcd1234', 'a1b2c3d4e5f6', 'hello', 'helloworld', 'hellohello', 'computer', 'internet', 'security',
  'securepassword', 'police', 'policeofficer', 'socialcare', 'socialworker', 'safeguarding', 'dorset', 'bournemouth',
  'poole', 'weymouth', 'speaksafe', 'countylines', 'cuckooing', 'temp', 'temporary', 'temppassword', 'guest',
  'qwertyqwerty', 'aaaaaaaaaaaa', 'pa55word', 'pa55w0rd', 'login', 'loginlogin', 'access', 'accessgranted',
]);
