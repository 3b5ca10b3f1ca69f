/** The few XMP properties that say which software made or changed a picture, and when (read from the text). */

export interface XmpData {
  creatorTool: string | null;
  createDate: string | null;
  modifyDate: string | null;
  metadataDate: string | null;
  dateTimeOriginal: string | null;
  make: string | null;
  model: string | null;
  /** Software agents in the edit history (xmpMM:History), in order. */
  historyAgents: string[];
  /** Actions in the edit history (saved, converted, derived, ...). */
  historyActions: string[];
  /** IPTC digital source type (e.g. ...digitalsourcetype/trainedAlgorithmicMedia). */
  digitalSourceType: string | null;
  /** Camera Raw / Lightroom develop settings are present. */
  hasDevelopSettings: boolean;
  /** The picture names a document it was derived from. */
  derivedFrom: boolean;
}

// XMP packets are small; a huge one is read only this far.
const maxXmpChars = 1_000_000;

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A property given as an attribute (ns:Name="v") or a simple element (<ns:Name>v</ns:Name>). */
function property(xml: string, name: string): string | null {
  const pattern = new RegExp(`${escape(name)}\\s*=\\s*"([^"]*)"|<${escape(name)}>([^<]*)</${escape(name)}>`);
  const match = pattern.exec(xml);
  const value = (match?.[1] ?? match?.[2])?.trim();
  return value ? decodeEntities(value) : null;
}

function all(xml: string, name: string): string[] {
  const pattern = new RegExp(
    `${escape(name)}\\s*=\\s*"([^"]*)"|<${escape(name)}>([^<]*)</${escape(name)}>`,
    'g',
  );
  return [...xml.matchAll(pattern)]
    .map((match) => decodeEntities((match[1] ?? match[2] ?? '').trim()))
    .filter(Boolean);
}

const decodeEntities = (text: string) =>
  text.replace(
    /&(lt|gt|amp|quot|apos);/g,
    (_, entity: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[entity] ?? '',
  );

export function readXmp(packet: string): XmpData {
  const xml = packet.slice(0, maxXmpChars);
  return {
    creatorTool: property(xml, 'xmp:CreatorTool'),
    createDate: property(xml, 'xmp:CreateDate'),
    modifyDate: property(xml, 'xmp:ModifyDate'),
    metadataDate: property(xml, 'xmp:MetadataDate'),
    dateTimeOriginal: property(xml, 'exif:DateTimeOriginal') ?? property(xml, 'photoshop:DateCreated'),
    make: property(xml, 'tiff:Make'),
    model: property(xml, 'tiff:Model'),
    historyAgents: all(xml, 'stEvt:softwareAgent'),
    historyActions: all(xml, 'stEvt:action'),
    digitalSourceType: property(xml, 'Iptc4xmpExt:DigitalSourceType'),
    hasDevelopSettings: /\bcrs:(ProcessVersion|Exposure2012|HasSettings)\b/.test(xml),
    derivedFrom: /xmpMM:DerivedFrom\b/.test(xml),
  };
}
