import tomllib, glob, sys
for api in ['mediant','sipxconfig','rome','roaming-profile']:
    ds=[]
    for f in sorted(glob.glob(f'specs/{api}/*.toml')):
        d=tomllib.load(open(f,'rb'))
        ds+=d.get('decision',[])
    print(f"\n### {api} ({len(ds)} decisions)")
    for d in ds:
        alts='; '.join(d.get('alternatives',[])) or 'none'
        q=d['question'].replace('\n',' ')
        print(f"- `{d['id']}`: {q} → **{d['choice']}** (lenient also: {alts})")
